"""Rule, RuleSet and the helper that builds a located violation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from quanta.errors import Diagnostic, Severity
from quanta.spec.errormap import field_path
from quanta.spec.loader import MeshSource
from quanta.spec.yamlsource import Document, PathPart

Violation = Diagnostic
"""A rule's finding: a diagnostic with code, location, field, message and hint."""


def violation(
    document: Document,
    parts: tuple[PathPart, ...],
    code: str,
    message: str,
    *,
    hint: str = "",
    severity: Severity = Severity.ERROR,
    key: bool = False,
) -> Violation:
    """A violation located at the node ``parts`` of ``document`` (its key when ``key``)."""
    return Diagnostic(
        code, message, document.locate(parts, key=key), field=field_path(parts), hint=hint, severity=severity
    )


class Rule(ABC):
    """A check over a loaded mesh. Subclasses set ``name`` and ``description``."""

    name: str = ""
    description: str = ""

    @abstractmethod
    def check(self, mesh: MeshSource) -> Iterable[Violation]:
        """Every violation of this rule in ``mesh``."""


@dataclass
class RuleSet:
    """An ordered collection of rules run together (an instance; no global registry)."""

    rules: list[Rule] = field(default_factory=list)

    def run(self, mesh: MeshSource) -> Iterator[Violation]:
        for rule in self.rules:
            yield from rule.check(mesh)

    def add(self, rule: Rule) -> None:
        self.rules.append(rule)
