"""Typed row filters from query parameters: ``?<property>=<op>:<value>``.

Operators: ``eq`` (the default when no known operator prefixes the value), ``ne``, ``in``
(comma-separated values), ``lt``/``le``/``gt``/``ge``, ``prefix`` (strings) and ``is_null``
(``true`` or ``false``). Each value is parsed by the property's logical type *as the caller
receives it* (after masking) and bound as a query parameter: user input never becomes SQL text.
Several filters on one property all apply (``?amount=ge:10&amount=lt:100``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlglot import exp

from quanta.errors import BadRequest
from quanta.ports.rest.columns import Column

OPERATORS = ("eq", "ne", "in", "lt", "le", "gt", "ge", "prefix", "is_null")
MAX_IN_VALUES = 1000
_ORDERED = frozenset({"string", "integer", "number", "date", "timestamp", "time"})
_COMPARE: dict[str, type[exp.Binary]] = {
    "eq": exp.EQ,
    "ne": exp.NEQ,
    "lt": exp.LT,
    "le": exp.LTE,
    "gt": exp.GT,
    "ge": exp.GTE,
}
_INT64 = 2**63


@dataclass(frozen=True)
class Filter:
    """One validated filter: a property, an operator and its typed value(s)."""

    name: str
    op: str
    values: tuple[Any, ...]

    def normalised(self) -> list[Any]:
        """A JSON-able form (cursors and ETags compare requests by it)."""
        return [self.name, self.op, [_jsonable(v) for v in self.values]]


def parse_filter(column: Column, raw: str) -> Filter:
    """``raw`` (``op:value`` or a bare value for ``eq``) as a typed filter on ``column``."""
    head, sep, rest = raw.partition(":")
    op, text = (head, rest) if sep and head in OPERATORS else ("eq", raw)
    param = column.name
    if column.nested:
        raise BadRequest(f"'{param}' is of type {column.logical_type}: it cannot be filtered on", param)
    if op == "is_null":
        if text not in ("true", "false"):
            raise BadRequest(f"'{param}': is_null takes true or false, not '{text}'", param)
        return Filter(param, op, (text == "true",))
    if op == "prefix" and column.logical_type != "string":
        raise BadRequest(f"'{param}' is of type {column.logical_type}: prefix applies to strings only", param)
    if op in ("lt", "le", "gt", "ge") and column.logical_type not in _ORDERED:
        raise BadRequest(f"'{param}' is of type {column.logical_type}: {op} applies to ordered types only", param)
    texts = text.split(",") if op == "in" else [text]
    if len(texts) > MAX_IN_VALUES:
        raise BadRequest(f"'{param}': at most {MAX_IN_VALUES} values in one 'in' filter", param)
    values = tuple(typed_value(column, t) for t in texts)
    if op in ("eq", "ne", "in") and column.enum is not None:
        for value in values:
            if value not in column.enum:
                allowed = ", ".join(str(v) for v in column.enum)
                raise BadRequest(f"'{param}': '{value}' is not one of its values ({allowed})", param)
    return Filter(param, op, values)


def typed_value(column: Column, text: str) -> Any:
    """``text`` as a value of ``column``'s received logical type; :class:`BadRequest` naming it."""
    kind = column.logical_type
    try:
        return _PARSERS[kind](text)
    except (ValueError, OverflowError, KeyError):
        example = _EXAMPLES.get(kind, "")
        raise BadRequest(
            f"'{column.name}' is of type {kind}: '{text}' is not a valid value"
            + (f" (e.g. {example})" if example else ""),
            column.name,
        ) from None


def _integer(text: str) -> int:
    value = int(text.strip(), 10)
    if not -_INT64 <= value < _INT64:
        raise ValueError(text)
    return value


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _boolean(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(text)
    return text == "true"


def _timestamp(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


_PARSERS: dict[str, Any] = {
    "string": str,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "date": date.fromisoformat,
    "timestamp": _timestamp,
    "time": time.fromisoformat,
}
_EXAMPLES = {
    "integer": "42",
    "number": "12.5",
    "boolean": "true",
    "date": "2026-11-02",
    "timestamp": "2026-11-02T12:00:00Z",
    "time": "12:30:00",
}


def condition(filters: tuple[Filter, ...], params: dict[str, Any]) -> exp.Condition | None:
    """The AND of every filter as a sqlglot condition; values go into ``params`` (named ``f0``, ``f1``…)."""
    parts = [_one(f, params) for f in filters]
    if not parts:
        return None
    return exp.and_(*parts)


def _bind(value: Any, params: dict[str, Any]) -> exp.Placeholder:
    name = f"f{len(params)}"
    params[name] = value
    return exp.Placeholder(this=name)


def _one(item: Filter, params: dict[str, Any]) -> exp.Condition:
    column = exp.column(item.name, quoted=True)
    if item.op == "is_null":
        test = exp.Is(this=column, expression=exp.Null())
        return test if item.values[0] else exp.Not(this=test)
    if item.op == "in":
        return exp.In(this=column, expressions=[_bind(v, params) for v in item.values])
    if item.op == "prefix":
        return exp.Anonymous(this="starts_with", expressions=[column, _bind(item.values[0], params)])
    return _COMPARE[item.op](this=column, expression=_bind(item.values[0], params))


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | time) else value


def parse_filters(columns: Mapping[str, Column], items: list[tuple[str, str]]) -> tuple[Filter, ...]:
    """Filters from ``(property, raw)`` pairs; an unknown property is a :class:`BadRequest` naming it."""
    from quanta.spec.errormap import suggest

    found = []
    for name, raw in items:
        column = columns.get(name)
        if column is None:
            hint = suggest(name, sorted(columns))
            raise BadRequest(f"unknown parameter or property '{name}'" + (f"; {hint}" if hint else ""), name)
        found.append(parse_filter(column, raw))
    return tuple(found)
