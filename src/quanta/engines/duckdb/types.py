"""DuckDB's type mapping, as data (imports no DuckDB).

Each logical type lists the DuckDB types a transformation may produce for it and the
portable type it is written as (no unsigned, HUGEINT or nanosecond types in snapshots).
"""

from __future__ import annotations

from quanta.engines.types import LogicalTypeRule, TypeMapping

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

LOSSLESS_CASTS = frozenset(
    {(small, "BIGINT") for small in ("TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT", "UINTEGER")}
    | {("FLOAT", "DOUBLE"), ("UUID", "VARCHAR"), ("TIMESTAMP_S", "TIMESTAMP"), ("TIMESTAMP_MS", "TIMESTAMP")}
)
"""(produced, written) casts that cannot merge two distinct values."""

TYPES = TypeMapping(RULES, LOSSLESS_CASTS)
