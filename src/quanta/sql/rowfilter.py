"""Row filters: a boolean expression over a product's properties that may bind the caller's
attributes (``:principal.<attr>``), parsed once and bound as literals, never concatenated."""

from __future__ import annotations

import re
from collections.abc import Callable
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
    """SQL does not parse or is not of the allowed shape."""


@dataclass(frozen=True)
class RowFilter:
    """A parsed row filter: the properties it reads and the principal attributes it binds."""

    text: str
    columns: frozenset[str]
    principal_attributes: frozenset[str]


RowFilterParser = Callable[[str], RowFilter]
"""Parses a row filter or raises :class:`SqlRestrictionError` (``parse_row_filter``, or a memo of it)."""


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


def _first_line(message: str) -> str:
    text = message.strip().splitlines()[0] if message.strip() else "does not parse"
    return re.sub(r" for <class '[^']+'>", "", text)


def bind_row_filter(text: str, attributes: dict[str, str], dialect: str = "duckdb") -> exp.Expression:
    """The row filter as an expression with every ``:principal.<attr>`` replaced by the caller's
    value as a string literal; ``KeyError`` names an attribute the caller lacks."""
    import sqlglot
    from sqlglot import exp

    parse_row_filter(text, dialect)  # refuses what is not a plain boolean expression
    tree = sqlglot.parse_one(_PRINCIPAL.sub(lambda m: f":principal__{m.group(1)}", text), dialect=dialect)

    def bind(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and str(node.name).startswith("principal__"):
            return exp.Literal.string(attributes[str(node.name).removeprefix("principal__")])
        return node

    return tree.transform(bind)
