"""Logical types (ODCS) and the engine types that may carry them, as data.

Each logical type lists the DuckDB types a transformation may produce for it and the
portable type it is written as (no unsigned, HUGEINT or nanosecond types in snapshots).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_INTEGERS = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}


@dataclass(frozen=True)
class LogicalTypeRule:
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


RULES: dict[str, LogicalTypeRule] = {
    "string": LogicalTypeRule(frozenset({"VARCHAR", "UUID"}), patterns=(r"ENUM\(.*\)",), write_as="VARCHAR"),
    "integer": LogicalTypeRule(frozenset(_INTEGERS), write_as="BIGINT"),
    "number": LogicalTypeRule(
        frozenset(_INTEGERS | {"FLOAT", "DOUBLE"}),
        patterns=(r"DECIMAL\(\d+,\d+\)",),
        write_as="DOUBLE",
        keep=(r"DECIMAL\(\d+,\d+\)",),
    ),
    "boolean": LogicalTypeRule(frozenset({"BOOLEAN"})),
    "date": LogicalTypeRule(frozenset({"DATE"})),
    "timestamp": LogicalTypeRule(
        frozenset({"TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}),
        write_as="TIMESTAMP",
        keep=("TIMESTAMP WITH TIME ZONE",),
    ),
    "time": LogicalTypeRule(frozenset({"TIME"})),
    "array": LogicalTypeRule(frozenset(), patterns=(r".*\[\d*\]",)),
    "object": LogicalTypeRule(frozenset({"JSON"}), patterns=(r"STRUCT\(.*\)", r"MAP\(.*\)")),
}
