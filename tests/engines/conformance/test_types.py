"""The type mapping: what each logical type may be produced as, and the portable Arrow type every
engine writes it as (no unsigned, 128-bit or nanosecond types in snapshots)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conformance_kit import job, parquet_relation

from quanta.engines.base import Engine, SchemaMismatch
from quanta.engines.types import LOGICAL_TYPES

SOURCE = pa.table(
    {
        "small": pa.array([1], pa.int8()),
        "unsigned": pa.array([2], pa.uint32()),
        "single": pa.array([1.5], pa.float32()),
        "millis": pa.array([1_700_000_000_000], pa.timestamp("ms")),
        "day": pa.array([19_000], pa.date32()),
        "clock": pa.array([3_600_000_000], pa.time64("us")),
        "flag": pa.array([True]),
        "word": pa.array(["x"]),
        "amount": pa.array([12345], pa.decimal128(10, 2)),
        "items": pa.array([[1, 2]], pa.list_(pa.int64())),
        "thing": pa.array([{"k": "v"}], pa.struct([("k", pa.string())])),
    }
)

WRITTEN = {
    "small": ("integer", pa.int64()),
    "unsigned": ("integer", pa.int64()),
    "single": ("number", pa.float64()),
    "millis": ("timestamp", pa.timestamp("us")),
    "day": ("date", pa.date32()),
    "clock": ("time", pa.time64("us")),
    "flag": ("boolean", pa.bool_()),
    "word": ("string", pa.string()),
    "amount": ("number", pa.decimal128(10, 2)),
    "items": ("array", pa.list_(pa.int64())),
    "thing": ("object", pa.struct([("k", pa.string())])),
}


def test_every_logical_type_is_covered() -> None:
    assert {logical for logical, _ in WRITTEN.values()} == set(LOGICAL_TYPES)


def test_each_logical_type_is_written_as_its_portable_type(engine: Engine, tmp_path: Path) -> None:
    relation = parquet_relation(tmp_path / "in", "source", SOURCE)
    names = ", ".join(WRITTEN)
    transform = job(
        tmp_path / "out", [f"select {names} from source"], [(n, t) for n, (t, _) in WRITTEN.items()], (relation,)
    )
    result = engine.run(transform)
    schema = pq.read_schema(transform.output_dir / result.files[0].path)
    written = {name: _plain(schema.field(name).type) for name in WRITTEN}
    assert written == {name: arrow for name, (_, arrow) in WRITTEN.items()}
    assert set(result.casts) >= {"small", "single"}


@pytest.mark.parametrize(
    ("column", "declared"), [("word", "integer"), ("flag", "string"), ("day", "timestamp"), ("items", "object")]
)
def test_a_type_that_cannot_carry_the_logical_type_is_refused(
    engine: Engine, tmp_path: Path, column: str, declared: str
) -> None:
    relation = parquet_relation(tmp_path / "in", "source", SOURCE)
    transform = job(tmp_path / "out", [f"select {column} from source"], [(column, declared)], (relation,))
    with pytest.raises(SchemaMismatch) as caught:
        engine.run(transform)
    assert [(name, logical) for name, logical, _ in caught.value.mistyped] == [(column, declared)]


def test_nanosecond_timestamps_are_written_as_microseconds(engine: Engine, tmp_path: Path) -> None:
    nanos = pa.table({"stamp": pa.array([1_700_000_000_000_000_123], pa.timestamp("ns"))})
    relation = parquet_relation(tmp_path / "in", "source", nanos)
    transform = job(tmp_path / "out", ["select stamp from source"], [("stamp", "timestamp")], (relation,))
    result = engine.run(transform)
    assert pq.read_schema(transform.output_dir / result.files[0].path).field("stamp").type == pa.timestamp("us")


def _plain(kind: pa.DataType) -> pa.DataType:
    """Arrow types without field names of lists (engines name a list's element differently)."""
    if pa.types.is_list(kind):
        return pa.list_(_plain(kind.value_type))
    return kind
