"""Keyset ("seek") pagination: a page starts *at a row's sort values* instead of at an offset.

A page of ``n`` rows after ``OFFSET o`` makes the engine order ``o + n`` rows (DuckDB gives up its
Top-N heap for a full sort of the table once ``o + n`` passes 0.7% of it), so deep pages got
slower and larger the further a reader went. A cursor here holds the sort values of the next
page's first row and how many rows equal to it were already returned (``skip``: rows identical in
every sort column are told apart by count only), so every page is a Top-N of ``skip + n`` rows
over the rows at or after those values, however deep.

Values keep their exact type through the cursor's JSON (decimals, dates, timestamps and times
are tagged), are bound as parameters, and are compared the way ``ORDER BY`` orders them: nulls
last in both directions.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Collection, Sequence
from typing import Any

from sqlglot import exp

from quanta.errors import BadRequest
from quanta.ports.rest.request import SortKey


def encode(values: Sequence[Any]) -> list[Any]:
    """Sort values as JSON values, exact (a type tag where JSON has none)."""
    return [_encode(v) for v in values]


def decode(values: Sequence[Any]) -> list[Any]:
    """The values :func:`encode` gave; :class:`BadRequest` when they are not what it gives."""
    try:
        return [_decode(v) for v in values]
    except (ValueError, TypeError, KeyError, decimal.InvalidOperation):
        raise BadRequest("the cursor is not valid: its position cannot be read", "cursor") from None


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"timestamp": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"time": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"uuid": str(value)}
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    raise TypeError(f"a {type(value).__name__} cannot position a cursor")


_DECODERS: dict[str, Callable[[str], Any]] = {
    "decimal": decimal.Decimal,
    "timestamp": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "uuid": uuid.UUID,
    "bytes": bytes.fromhex,
}


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        ((tag, text),) = value.items()
        return _DECODERS[tag](text)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(type(value).__name__)


def at_or_after(
    order: Sequence[SortKey], values: Sequence[Any], non_null: Collection[str], params: dict[str, Any]
) -> exp.Condition:
    """Rows at or after ``values`` in ``order`` (nulls last): a lexicographic comparison, each value
    bound as a parameter. ``non_null``: columns known to hold no null (a published snapshot's
    required ones); for one such key it is plain ``key >= $v``, which the scan can prune by."""
    bound = [_bind(v, params) if v is not None else None for v in values]
    parts: list[exp.Condition] = []
    for i, key in enumerate(order):
        column = exp.column(key.name, quoted=True)
        nullable = key.name not in non_null
        prefix = [_equal(exp.column(k.name, quoted=True), bound[j]) for j, k in enumerate(order[:i])]
        here: exp.Condition | None
        if i == len(order) - 1:
            here = _at_least(column, bound[i], key.descending, nullable)
        else:
            here = _after(column, bound[i], key.descending, nullable)
        if here is None:
            continue
        parts.append(exp.and_(*prefix, here) if prefix else here)
    return exp.or_(*parts) if parts else exp.false()


def before(order: Sequence[SortKey], values: Sequence[Any], params: dict[str, Any]) -> exp.Condition:
    """Rows strictly before ``values`` in ``order`` (nulls last)."""
    bound = [_bind(v, params) if v is not None else None for v in values]
    parts: list[exp.Condition] = []
    for i, key in enumerate(order):
        column = exp.column(key.name, quoted=True)
        prefix = [_equal(exp.column(k.name, quoted=True), bound[j]) for j, k in enumerate(order[:i])]
        value = bound[i]
        if value is None:
            here: exp.Condition = exp.Not(this=_is_null(column))
        else:
            kind = exp.GT if key.descending else exp.LT
            here = kind(this=column, expression=value.copy())
        parts.append(exp.and_(*prefix, here) if prefix else here)
    return exp.or_(*parts) if parts else exp.false()


def equal(left: Sequence[Any], right: Sequence[Any]) -> bool:
    """Whether two rows' sort values are equal as ``ORDER BY`` sees them (nulls equal, NaN equals NaN)."""
    return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return bool(a == b)


def _bind(value: Any, params: dict[str, Any]) -> exp.Placeholder:
    name = f"k{len(params)}"
    params[name] = value
    return exp.Placeholder(this=name)


def _is_null(column: exp.Expression) -> exp.Condition:
    return exp.Is(this=column.copy(), expression=exp.Null())


def _equal(column: exp.Expression, value: exp.Placeholder | None) -> exp.Condition:
    return _is_null(column) if value is None else exp.EQ(this=column, expression=value.copy())


def _after(
    column: exp.Expression, value: exp.Placeholder | None, descending: bool, nullable: bool
) -> exp.Condition | None:
    """Strictly after ``value`` in this column alone (None: nothing is, as nothing follows a null)."""
    if value is None:
        return None
    kind = exp.LT if descending else exp.GT
    compare: exp.Condition = kind(this=column, expression=value.copy())
    return exp.or_(compare, _is_null(column)) if nullable else compare


def _at_least(column: exp.Expression, value: exp.Placeholder | None, descending: bool, nullable: bool) -> exp.Condition:
    """At or after ``value`` in this column alone."""
    if value is None:
        return _is_null(column)
    kind = exp.LTE if descending else exp.GTE
    compare: exp.Condition = kind(this=column, expression=value.copy())
    return exp.or_(compare, _is_null(column)) if nullable else compare
