"""``Mesh``: the facade over a mesh folder: load, validate (build, measure and serve follow)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from quanta.errors import Diagnostic, SpecError
from quanta.rules.base import RuleSet
from quanta.rules.validation import validation_rules
from quanta.spec.loader import MeshSource, load_mesh
from quanta.spec.mesh import Platform
from quanta.spec.plugins import PluginRegistry


@dataclass
class ValidationReport:
    """Everything validation found, sorted by file and position; the mesh when it loaded."""

    diagnostics: list[Diagnostic]
    source: MeshSource | None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    @property
    def ok(self) -> bool:
        return self.source is not None and not self.errors


@dataclass
class Mesh:
    """A validated mesh and the registries that go with it."""

    source: MeshSource
    plugins: PluginRegistry
    rules: RuleSet = field(default_factory=validation_rules)

    @staticmethod
    def validate(path: Path, plugins: PluginRegistry | None = None, rules: RuleSet | None = None) -> ValidationReport:
        """Load every spec under ``path`` and run all validation rules; never raises for bad input."""
        result = load_mesh(path, plugins or PluginRegistry.default())
        diagnostics = list(result.diagnostics)
        if result.mesh is not None:
            diagnostics.extend((rules or validation_rules()).run(result.mesh))
        diagnostics.sort(key=Diagnostic.sort_key)
        return ValidationReport(diagnostics, result.mesh)

    @classmethod
    def load(cls, path: Path, plugins: PluginRegistry | None = None) -> Mesh:
        """A valid mesh, or :class:`SpecError` with every diagnostic."""
        plugins = plugins or PluginRegistry.default()
        report = cls.validate(path, plugins)
        if not report.ok or report.source is None:
            raise SpecError(report.diagnostics)
        return cls(report.source, plugins)

    def platform(self, profile: str | None = None) -> Platform:
        from quanta.project.settings import resolve_platform

        return resolve_platform(self.source.spec, profile)
