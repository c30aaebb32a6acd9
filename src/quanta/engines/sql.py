"""User SQL, parsed and restricted with sqlglot: never concatenated into queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp

_PRINCIPAL = re.compile(r":principal\.([A-Za-z_]\w*)")
_FORBIDDEN = (
    "Select",
    "Subquery",
    "Command",
    "Create",
    "Drop",
    "Insert",
    "Update",
    "Delete",
    "Alter",
    "Union",
    "Pragma",
    "Set",
    "Use",
    "Copy",
    "Attach",
    "Detach",
)


class SqlRestrictionError(ValueError):
    """User SQL does not parse or is not of the allowed shape."""


@dataclass(frozen=True)
class RowFilter:
    """A parsed row filter: the properties it reads and the principal attributes it binds."""

    text: str
    columns: frozenset[str]
    principal_attributes: frozenset[str]


def parse_row_filter(text: str, dialect: str = "duckdb") -> RowFilter:
    """Parse a boolean row-filter expression; ``:principal.<attr>`` binds the caller's attributes."""
    import sqlglot
    from sqlglot import exp

    attributes = frozenset(_PRINCIPAL.findall(text))
    prepared = _PRINCIPAL.sub(lambda m: f":principal__{m.group(1)}", text)
    try:
        tree = sqlglot.parse_one(prepared, dialect=dialect)
    except sqlglot.errors.ParseError as exc:
        raise SqlRestrictionError(_first_line(str(exc))) from None
    if tree is None:
        raise SqlRestrictionError("empty expression")
    for node in tree.walk():
        if type(node).__name__ in _FORBIDDEN:
            raise SqlRestrictionError(f"{type(node).__name__.upper()} is not allowed in a row filter")
    if not isinstance(tree, exp.Condition) or isinstance(tree, exp.Column | exp.Literal):
        raise SqlRestrictionError("a row filter must be a boolean expression such as country = 'FR'")
    for placeholder in tree.find_all(exp.Placeholder):
        if not str(placeholder.name).startswith("principal__"):
            raise SqlRestrictionError(f"unknown parameter :{placeholder.name}; use :principal.<attribute>")
    columns = frozenset(c.name for c in tree.find_all(exp.Column))
    return RowFilter(text, columns, attributes)


def parse_select(sql: str, dialect: str = "duckdb") -> exp.Query:
    """One read-only SELECT query: no other statements, no table functions or file readers."""
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(sql, dialect=dialect) if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise SqlRestrictionError(f"the query does not parse: {_first_line(str(exc))}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise SqlRestrictionError("only one SELECT query is allowed")
    statement = statements[0]
    for node in statement.walk():
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous | exp.Func):
            raise SqlRestrictionError("table functions (read_csv, read_parquet, …) are not allowed; query by name")
        if isinstance(node, exp.Anonymous | exp.Func) and type(node).__name__.startswith(("Read", "Glob")):
            raise SqlRestrictionError("file-reading functions are not allowed; query by name")
    return statement


def _first_line(message: str) -> str:
    text = message.strip().splitlines()[0] if message.strip() else "does not parse"
    return re.sub(r" for <class '[^']+'>", "", text)
