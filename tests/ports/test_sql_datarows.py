"""The SQL port's batch framing gives byte for byte the DataRow messages the per-row encoder gives
(the port's own text encoders, ``protocol.data_row``), for every column type, NULLs, empty strings,
sliced tables and non-ASCII text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from quanta.ports.sql import protocol as pg
from quanta.ports.sql import types as wt
from quanta.ports.sql.datarows import data_rows, text_values

COLUMNS = {
    "i64": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "i16": (pa.int16(), st.integers(-(2**15), 2**15 - 1)),
    "f64": (pa.float64(), st.floats()),
    "f32": (pa.float32(), st.floats(width=32)),
    "text": (pa.string(), st.text()),
    "bool": (pa.bool_(), st.booleans()),
    "date": (pa.date32(), st.dates()),
    "ts": (pa.timestamp("us"), st.datetimes(min_value=dt.datetime(1, 1, 2))),
    "num": (pa.decimal128(12, 3), st.decimals(min_value=-(10**8), max_value=10**8, places=3)),
}


def _expected(table: pa.Table) -> bytes:
    oids = [wt.wire_type(f.type).oid for f in table.schema]
    encoders = [wt.text_encoder(oid) for oid in oids]
    rows = zip(*[c.to_pylist() for c in table.columns], strict=True)
    return b"".join(pg.data_row([None if v is None else encoders[i](v) for i, v in enumerate(row)]) for row in rows)


def _framed(table: pa.Table) -> bytes:
    oids = [wt.wire_type(f.type).oid for f in table.schema]
    return data_rows([text_values(table.column(i), oid) for i, oid in enumerate(oids)])


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    names = draw(st.lists(st.sampled_from(sorted(COLUMNS)), min_size=1, max_size=5, unique=True))
    rows = draw(st.integers(1, 30))
    data = {}
    for name in names:
        kind, values = COLUMNS[name]
        data[name] = pa.array(draw(st.lists(st.none() | values, min_size=rows, max_size=rows)), kind)
    return pa.table(data)


@settings(max_examples=300, deadline=None)
@given(table=tables(), cut=st.integers(0, 5))
def test_batch_framing_equals_the_per_row_encoder(table: pa.Table, cut: int) -> None:
    assert _framed(table) == _expected(table)
    piece = table.slice(min(cut, table.num_rows - 1))  # a slice: offsets that do not start at 0
    assert _framed(piece) == _expected(piece)


def test_edge_values_frame_as_postgresql_text() -> None:
    table = pa.table(
        {
            "s": pa.array(["", None, "é ✓", "x" * 70_000]),
            "b": pa.array([True, False, None, True]),
            "n": pa.array([Decimal("1.500"), None, Decimal("-0.001"), Decimal(0)], pa.decimal128(6, 3)),
        }
    )
    framed = _framed(table)
    assert framed == _expected(table)
    first = pg.data_row([b"", b"t", b"1.500"])
    assert framed.startswith(first) and b"\xff\xff\xff\xff" in framed  # a NULL is length -1


def test_floats_at_every_notation_boundary_frame_as_the_per_value_encoder() -> None:
    values = [1.0, -0.0, 0.0, 100.0, 1e15, 1e16, 9.999999999999998e15, 123456789012345.6, 13156934067660.963]
    values += [1e-4, 9.99e-5, 1.402233145710586e-09, 2.775411931247677e-05, 5e-324, 1.7976931348623157e308, 0.1]
    values += [1e22, -1e-7, float("nan"), float("inf"), float("-inf"), None]
    for kind in (pa.float64(), pa.float32()):
        table = pa.table({"x": pa.array(values, kind)})
        assert _framed(table) == _expected(table), kind
