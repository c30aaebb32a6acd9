"""Spark's type mapping, as data (imports no PySpark): Spark SQL type names (``simpleString``) a
transformation may produce for each logical type, and the portable type each is written as, so a
Spark snapshot has the Parquet types a DuckDB one has."""

from __future__ import annotations

from quanta.engines.types import LogicalTypeRule, TypeMapping

_INTEGERS = {"tinyint", "smallint", "int", "bigint"}

RULES: dict[str, LogicalTypeRule] = {
    "string": LogicalTypeRule(frozenset({"string"}), patterns=(r"(var)?char\(\d+\)",), write_as="string"),
    "integer": LogicalTypeRule(frozenset(_INTEGERS), patterns=(r"decimal\(\d+,0\)",), write_as="bigint"),
    "number": LogicalTypeRule(
        frozenset(_INTEGERS | {"float", "double"}),
        patterns=(r"decimal\(\d+,\d+\)",),
        write_as="double",
        keep=(r"decimal\(\d+,\d+\)",),
    ),
    "boolean": LogicalTypeRule(frozenset({"boolean"})),
    "date": LogicalTypeRule(frozenset({"date"})),
    # a zone-less timestamp is written as one (as DuckDB's TIMESTAMP); Spark's session-zoned
    # TIMESTAMP is kept and written adjusted to UTC (as DuckDB's TIMESTAMP WITH TIME ZONE)
    "timestamp": LogicalTypeRule(frozenset({"timestamp_ntz", "timestamp"})),
    "time": LogicalTypeRule(frozenset(), patterns=(r"time(\(\d\))?",)),
    "array": LogicalTypeRule(frozenset(), patterns=(r"array<.*>",)),
    "object": LogicalTypeRule(frozenset(), patterns=(r"struct<.*>", r"map<.*>")),
}

LOSSLESS_CASTS = frozenset({(small, "bigint") for small in ("tinyint", "smallint", "int")} | {("float", "double")})
"""(produced, written) casts that cannot merge two distinct values."""

TYPES = TypeMapping(RULES, LOSSLESS_CASTS)
