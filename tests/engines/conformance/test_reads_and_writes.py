"""Every engine reads each input format and writes the snapshot files the manifest describes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conformance_kit import job, output, parquet_relation, sorted_rows, write_inputs

from quanta.engines.base import Engine, SchemaMismatch, TransformError
from quanta.engines.duckdb import DuckDBEngine

ROWS = [(1, "ada"), (2, "grace"), (3, "edsger")]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json", "ndjson"])
def test_reads_each_input_format(engine: Engine, tmp_path: Path, fmt: str) -> None:
    relation = write_inputs(tmp_path / "in")[fmt]
    transform = job(
        tmp_path / "out",
        ["select cast(id as bigint) as id, name from people"],
        [("id", "integer"), ("name", "string")],
        (relation,),
    )
    result = engine.run(transform)
    assert result.rows == 3
    assert sorted_rows(output(transform, result.files)) == ROWS


def test_writes_the_files_it_describes(engine: Engine, tmp_path: Path) -> None:
    transform = job(
        tmp_path / "out",
        ["select 2 as b, 'x' as a union all select 3, 'y'"],
        [("a", "string"), ("b", "integer")],
    )
    result = engine.run(transform)
    assert result.files and all(f.path.startswith("data/") and f.path.endswith(".parquet") for f in result.files)
    for info in result.files:
        path = transform.output_dir / info.path
        assert path.stat().st_size == info.bytes
        assert hashlib.sha256(path.read_bytes()).hexdigest() == info.sha256
    table = output(transform, result.files)
    assert table.column_names == ["a", "b"]  # the declared order, whatever the SQL's
    assert [name for name, _ in result.schema] == ["a", "b"]
    assert sorted_rows(table) == [("x", 2), ("y", 3)]
    assert pq.ParquetFile(transform.output_dir / result.files[0].path).metadata.row_group(0).column(0).compression in (
        "ZSTD",
        "zstd",
    )


def test_an_empty_result_is_a_snapshot_of_no_rows(engine: Engine, tmp_path: Path) -> None:
    transform = job(tmp_path / "out", ["select 1 as a where 1 = 0"], [("a", "integer")])
    result = engine.run(transform)
    assert result.rows == 0
    assert output(transform, result.files).num_rows == 0


def test_schema_mismatch_lists_every_problem(engine: Engine, tmp_path: Path) -> None:
    transform = job(
        tmp_path / "out",
        ["select 1 as a, 'x' as b, 3 as c"],
        [("a", "string"), ("b", "string"), ("d", "date")],
    )
    with pytest.raises(SchemaMismatch) as caught:
        engine.run(transform)
    assert caught.value.missing == ["d"] and caught.value.extra == ["c"]
    assert [(name, declared) for name, declared, _ in caught.value.mistyped] == [("a", "string")]


def test_a_missing_input_file_is_a_transform_error(engine: Engine, tmp_path: Path) -> None:
    relation = write_inputs(tmp_path / "in")["parquet"]
    (tmp_path / "in" / "people.parquet").unlink()
    with pytest.raises(TransformError):
        engine.run(
            job(tmp_path / "out", ["select * from people"], [("id", "integer"), ("name", "string")], (relation,))
        )


def test_content_hash_ignores_row_order_but_not_values(engine: Engine, tmp_path: Path) -> None:
    columns = [("a", "integer"), ("b", "string")]
    rows = "select * from (values (1, 'x'), (2, 'y'), (3, null)) as t(a, b)"
    up = engine.run(job(tmp_path / "1", [f"{rows} order by a"], columns))
    down = engine.run(job(tmp_path / "2", [f"{rows} order by a desc"], columns))
    other = engine.run(job(tmp_path / "3", [f"select a + 1 as a, b from ({rows})"], columns))
    assert up.content_hash == down.content_hash != other.content_hash


def test_content_hash_is_the_same_on_every_engine(engine: Engine, tmp_path: Path) -> None:
    """The neutral row hash (``quanta.engines.rowhash``): every type but floating point hashes
    alike on every engine, so consumers are not rebuilt when a product moves engines."""
    relation = parquet_relation(
        tmp_path / "in",
        "source",
        pa.table(
            {
                "k": pa.array([1, 2, None], pa.int64()),
                "s": pa.array(["a", "ü:é", None]),
                "b": pa.array([True, False, None]),
                "d": pa.array([19_000, None, 1], pa.date32()),
                "t": pa.array([1_700_000_000_123_456, None, 0], pa.timestamp("us")),
                "m": pa.array([12345, None, -5], pa.decimal128(10, 2)),
            }
        ),
    )
    columns = [("k", "integer"), ("s", "string"), ("b", "boolean"), ("d", "date"), ("t", "timestamp"), ("m", "number")]
    steps = ["select k, s, b, d, t, m from source"]
    result = engine.run(job(tmp_path / "out", steps, columns, (relation,)))
    reference = DuckDBEngine(threads=1).run(job(tmp_path / "duckdb", steps, columns, (relation,)))
    assert result.content_hash.startswith("r1:")
    assert result.content_hash == reference.content_hash
