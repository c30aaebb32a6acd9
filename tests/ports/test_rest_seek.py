"""Keyset pagination: whatever the data (nulls, NaN, runs of identical rows) and the order (any
columns first, either direction, then the tie-break of every column as the server adds it; or no
order at all), the pages a cursor walks through tile the ordered rows exactly: each row once, in
``ORDER BY`` order. Checked against DuckDB's own order."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from quanta.errors import BadRequest
from quanta.ports.rest import seek
from quanta.ports.rest.columns import Column
from quanta.ports.rest.request import RowsQuery, SortKey
from quanta.ports.rest.rows import _Window

NAMES = ("a", "b", "c")
TYPES = {"a": "INTEGER", "b": "VARCHAR", "c": "DOUBLE"}


class Plane:
    """What a window asks of the data plane: small queries as dicts."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection

    def records(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        cursor = self.connection.cursor()
        result = cursor.execute(sql, params or None)
        names = [d[0] for d in result.description or ()]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def probe(self, read: Any, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.records(sql, params)


def _key(value: Any) -> Any:
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


def _walk(rows: list[tuple[Any, ...]], order: list[SortKey], limit: int, published: bool) -> list[tuple[Any, ...]]:
    connection = duckdb.connect()
    connection.execute("CREATE TABLE t (a INTEGER, b VARCHAR, c DOUBLE)")
    if rows:
        connection.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    plane = Plane(connection)
    read = SimpleNamespace(
        relation=exp.select("*").from_("t"), snapshot=SimpleNamespace(status="published" if published else "rejected")
    )
    columns = {n: Column(n, "string", "string", required=published) for n in NAMES}
    query = RowsQuery((), (), (), limit)
    start: list[Any] | None = None
    skip = 0
    walked: list[tuple[Any, ...]] = []
    for _ in range(len(rows) + 2):
        window = _Window(read, columns, query, order, start, skip)  # type: ignore[arg-type]
        params: dict[str, Any] = {}
        page = plane.records(window.select("json", params).sql(dialect="duckdb"), params or None)
        assert len(page) <= limit
        walked += [tuple(r[n] for n in NAMES) for r in page]
        following = window.next_start(plane)  # type: ignore[arg-type]
        if following is None:
            return walked
        start = seek.decode(seek.encode(following[0]))  # through the cursor's JSON
        skip = following[1]
        assert page, "a page with a next page is not empty"
    raise AssertionError("pagination did not end")


values = st.tuples(
    st.one_of(st.none(), st.integers(-2, 2)),
    st.one_of(st.none(), st.sampled_from(["", "a", "b", "ab"])),
    st.one_of(st.none(), st.sampled_from([0.0, -1.5, 2.0, math.nan, math.inf])),
)
orders = st.lists(st.tuples(st.sampled_from(NAMES), st.booleans()), max_size=3, unique_by=lambda k: k[0])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(values, max_size=25), order=orders, limit=st.integers(1, 6))
def test_pages_tile_the_ordered_rows_exactly(
    rows: list[tuple[Any, ...]], order: list[tuple[str, bool]], limit: int
) -> None:
    chosen = [SortKey(name, descending) for name, descending in order]
    keys = chosen + [SortKey(n) for n in NAMES if n not in dict(order)]  # the server's tie-break: every column
    published = not any(None in row for row in rows)  # required columns are non-null only when checks passed
    walked = _walk(rows, keys, limit, published)
    assert sorted(map(repr, map(lambda r: tuple(map(_key, r)), walked))) == sorted(
        map(repr, map(lambda r: tuple(map(_key, r)), rows))
    )
    if keys:  # in the order: the sort columns of each row as DuckDB's ORDER BY lists them
        connection = duckdb.connect()
        connection.execute("CREATE TABLE t (a INTEGER, b VARCHAR, c DOUBLE)")
        if rows:
            connection.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
        by = ", ".join(f"{k.name} {'DESC' if k.descending else 'ASC'}" for k in keys)
        names = ", ".join(k.name for k in keys)
        expected = [tuple(map(_key, r)) for r in connection.execute(f"SELECT {names} FROM t ORDER BY {by}").fetchall()]
        positions = [NAMES.index(k.name) for k in keys]
        assert [tuple(_key(r[i]) for i in positions) for r in walked] == expected


def test_a_long_run_of_equal_rows_spans_pages() -> None:
    rows = [(1, "x", 0.5)] * 7 + [(2, "x", 0.5)] * 3
    walked = _walk(rows, [SortKey("a")], 3, True)
    assert walked == sorted(rows)


def test_without_an_order_pages_still_tile() -> None:
    rows = [(i % 3, None, None) for i in range(10)]
    assert sorted(_walk(rows, [], 4, False), key=repr) == sorted(rows, key=repr)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        7,
        2**70,
        1.5,
        math.inf,
        "text",
        decimal.Decimal("12.340"),
        dt.date(2026, 11, 2),
        dt.datetime(2026, 11, 2, 12, 30, 1, 5),
        dt.datetime(2026, 11, 2, 12, 30, tzinfo=dt.UTC),
        dt.time(12, 30, 0, 7),
        uuid.UUID(int=5),
        b"\x00\xff",
    ],
)
def test_sort_values_keep_their_exact_type_through_the_cursor(value: Any) -> None:
    import json

    (back,) = seek.decode(json.loads(json.dumps(seek.encode([value]))))
    assert back == value and type(back) is type(value)


def test_a_position_that_is_not_one_is_refused() -> None:
    for bad in ([{"colour": "red"}], [{"date": "yesterday"}], [[1, 2]], [{"decimal": "x"}]):
        with pytest.raises(BadRequest, match="position"):
            seek.decode(bad)


def test_a_single_required_key_seeks_with_a_plain_comparison() -> None:
    params: dict[str, Any] = {}
    condition = seek.at_or_after([SortKey("order_id")], ["o-7"], {"order_id"}, params)
    assert condition.sql(dialect="duckdb") == '"order_id" >= $k0' and params == {"k0": "o-7"}
