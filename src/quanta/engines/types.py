"""Type mappings as data: which engine types may carry each logical type (ODCS) and the portable
type each is written as. Every engine declares one in its capabilities; the build and quality
layers consult it (conformance of an output, casts that cannot merge two values)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

LOGICAL_TYPES = ("string", "integer", "number", "boolean", "date", "timestamp", "time", "array", "object")
"""The logical types a schema property may have (ODCS ``logicalType``)."""


@dataclass(frozen=True)
class LogicalTypeRule:
    """The engine types one logical type accepts, and what it is written as."""

    accepts: frozenset[str]
    patterns: tuple[str, ...] = ()
    write_as: str | None = None
    keep: tuple[str, ...] = ()

    def accepts_type(self, engine_type: str) -> bool:
        return engine_type in self.accepts or any(re.fullmatch(p, engine_type) for p in self.patterns)

    def cast_for(self, engine_type: str) -> str | None:
        """The type to cast to when writing, or None to keep the produced type."""
        if self.write_as is None or engine_type == self.write_as:
            return None
        if any(re.fullmatch(p, engine_type) for p in self.keep):
            return None
        return self.write_as


@dataclass(frozen=True)
class TypeMapping:
    """An engine's logical → engine type rules, and the (produced, written) casts it knows to be
    injective (two distinct values never become one)."""

    rules: Mapping[str, LogicalTypeRule]
    lossless_casts: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def accepts(self, logical_type: str, engine_type: str) -> bool:
        rule = self.rules.get(logical_type)
        return rule is not None and rule.accepts_type(engine_type)

    def cast_for(self, logical_type: str, engine_type: str) -> str | None:
        rule = self.rules.get(logical_type)
        return rule.cast_for(engine_type) if rule else None

    def is_lossless(self, produced: str, written: str) -> bool:
        """Whether casting ``produced`` to ``written`` keeps distinct values distinct."""
        return produced == written or (produced, written) in self.lossless_casts
