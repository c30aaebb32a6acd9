"""The gate every piece of user SQL passes before it reaches an engine. It fails closed: it
allows what it knows to be a read-only query over granted products and refuses the rest, saying why.

A statement is allowed when:

- it parses as exactly one statement, and that statement is a query (``SELECT`` with CTEs, set
  operations, subqueries, ``VALUES``);
- every relation it names is a granted product (``<domain>.<product>``) or a CTE of the statement —
  never a string or path, a table function, another catalog or an unknown schema;
- every function it calls is a known scalar, aggregate or window function: no file readers, no
  system or settings functions (``duckdb_*``, ``pragma_*``, ``current_setting``, ``getenv`` …), no
  function sqlglot does not know unless it is on the allow-list below;
- it writes nothing (``SELECT … INTO`` is refused).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlglot import exp

from quanta.errors import QuantaError

K = TypeVar("K")

_QUERY_ROOTS = (exp.Select, exp.SetOperation, exp.Values)
_DENIED_TYPED = (exp.ReadCSV, exp.ReadParquet)
_SYSTEM = re.compile(
    r"^(duckdb_|pragma_|read_|parquet_|sniff_|glob$|current_setting$|getenv$|query$|query_table$|"
    r"which_secret$|load$|install$|checkpoint$|version$|current_version$|current_user$|current_role$|session_user$|"
    r"user$|current_schemas?$|current_database$|current_catalog$|sqlite_|postgres_|iceberg_|delta_)"
)
ALLOWED_UNKNOWN_FUNCTIONS = frozenset(
    {
        "all",  # x <> ALL($1): a comparison with every element of a list, as PostgreSQL writes it
        "hash", "date_part", "datepart", "now", "age", "row", "to_json", "list_aggregate", "histogram",
        "printf", "like_escape", "nullif", "strpos", "instr", "left", "right", "lpad", "rpad", "repeat",
        "starts_with", "ends_with", "contains", "date_diff", "date_sub", "date_add", "epoch_us", "epoch_ns",
        "isoyear", "yearweek", "dayname", "monthname", "last_day", "millisecond", "microsecond", "second",
        "minute", "hour", "bit_length", "ascii", "chr", "unicode", "base64", "to_base64", "from_base64",
        "levenshtein", "jaccard", "jaro_winkler_similarity", "damerau_levenshtein", "hamming", "mismatches",
        "list_extract", "list_element", "list_slice", "list_reverse", "list_concat", "list_position",
        "list_has", "list_has_any", "list_has_all", "list_filter", "list_transform", "list_reduce",
        "list_count", "list_sum", "list_min", "list_max", "list_avg", "list_unique", "array_extract",
        "array_slice", "array_position", "array_has", "struct_extract", "map_keys", "map_values",
        "map_extract", "cardinality", "bit_count", "xor", "gcd", "lcm", "factorial", "even", "pi", "degrees",
        "radians", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "cot", "log2", "log10", "cbrt",
        "isnan", "isinf", "isfinite", "trunc", "round_even", "fsum", "kahan_sum", "product", "bitstring_agg",
        "arg_max_null", "arg_min_null", "max_by", "min_by", "entropy", "kurtosis", "skewness", "mad",
        "regr_slope", "regr_intercept", "regr_r2", "covar_samp", "covar_pop", "corr", "var_pop",
        "stddev_pop", "quantile", "reservoir_quantile", "approx_quantile", "favg", "bool_xor", "count_if",
        "countif", "sumif", "avgif", "json_extract_string", "json_array_length", "json_keys", "json_type",
        "json_valid", "json_object", "json_array", "json_quote", "strip_accents", "nfc_normalize",
        "format_bytes", "to_days", "to_hours", "to_minutes", "to_seconds", "to_weeks", "to_months",
        "to_years", "try_strptime", "time_bucket", "generate_series", "range", "concat_ws", "string_split",
        "str_split", "string_split_regex", "regexp_split_to_array", "regexp_full_match", "array_to_string",
        "list_to_string", "greatest_common_divisor", "least_common_multiple", "setseed", "md5_number",
        "sha1", "row_to_json", "array_agg", "grouping", "grouping_id",
    }
)  # fmt: skip
"""Functions sqlglot does not model that are known to be pure computations in DuckDB."""


class Refused(QuantaError):
    """The gate refused a statement; the message says why and ``sqlstate`` classifies it the way
    PostgreSQL would (42501 not allowed, 42601 syntax, 42P01 no such relation)."""

    def __init__(self, message: str, sqlstate: str = "42501") -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@dataclass
class GatedQuery(Generic[K]):
    """An allowed query and, for each product it reads, the table node and what it resolved to."""

    statement: Any
    tables: list[tuple[exp.Table, K]] = field(default_factory=list)

    @property
    def keys(self) -> list[K]:
        return list(dict.fromkeys(key for _, key in self.tables))


def gate(sql: str, resolve: Callable[[str | None, str], K | None], dialect: str = "duckdb") -> GatedQuery[K]:
    """Parse ``sql`` and allow it only as described in this module; ``resolve(schema, name)`` maps a
    relation to what it reads (None: not a product the caller may read)."""
    import sqlglot

    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise Refused(f"the statement does not parse: {_first_line(str(exc))}", "42601") from None
    if not statements:
        raise Refused("the statement is empty", "42601")
    if len(statements) != 1:
        raise Refused(f"exactly one statement is allowed, not {len(statements)}")
    statement: Any = statements[0]
    while isinstance(statement, exp.Subquery) and isinstance(statement.this, exp.Query):
        statement = statement.this
    if not isinstance(statement, _QUERY_ROOTS):
        raise Refused(f"only a read-only query (SELECT …) is allowed, not {_kind(statement)}")
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    gated: GatedQuery[K] = GatedQuery(statement)
    for node in statement.walk():
        if isinstance(node, exp.Command | exp.Into):
            raise Refused(f"{_kind(node)} is not allowed inside a query")
        if isinstance(node, exp.Func):
            _check_function(node)
        if isinstance(node, exp.Table):
            key = _check_table(node, ctes, resolve)
            if key is not None:
                gated.tables.append((node, key))
    return gated


def _check_table(node: exp.Table, ctes: set[str], resolve: Callable[[str | None, str], K | None]) -> K | None:
    if not isinstance(node.this, exp.Identifier):
        raise Refused("table functions are not allowed; name a product as <domain>.<product>")
    name, schema = node.name, node.db or None
    if node.catalog:
        raise Refused(f"'{node.catalog}.{schema}.{name}': other catalogs are not allowed")
    if schema is None and name.lower() in ctes:
        return None
    key = resolve(schema, name)
    if key is None:
        shown = f"{schema}.{name}" if schema else name
        raise Refused(f"'{shown}' is not a product you may read; name products as <domain>.<product>", "42P01")
    return key


def _check_function(node: exp.Func) -> None:
    name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
    if isinstance(node, _DENIED_TYPED) or _SYSTEM.match(name):
        raise Refused(f"function {name}() is not allowed: it reads files or the system")
    if isinstance(node, exp.Anonymous) and name not in ALLOWED_UNKNOWN_FUNCTIONS:
        raise Refused(f"function {name}() is not allowed (not a known scalar, aggregate or window function)")


def _kind(node: Any) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return type(node).__name__.upper()


def _first_line(message: str) -> str:
    text = message.strip().splitlines()[0] if message.strip() else "does not parse"
    return re.sub(r"\x1b\[[0-9;]*m", "", text)
