"""The DuckDB engine on its own: schema conformance, portable types, SQL restrictions, hashing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from quanta.engines.base import Column, Relation, SchemaMismatch, SqlStep, TransformError, TransformJob
from quanta.engines.duckdb import DuckDBEngine


def _job(tmp_path: Path, sql: str, columns: list[tuple[str, str]], dialect: str = "duckdb") -> TransformJob:
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    return TransformJob((), tuple(Column(n, t) for n, t in columns), out, steps=(SqlStep("output", sql, dialect),))


def _types(path: Path) -> dict[str, str]:
    relation = duckdb.read_parquet(str(path / "data" / "part-0.parquet"))
    return {name: str(kind) for name, kind in zip(relation.columns, relation.types, strict=True)}


def test_portable_types_are_written(tmp_path: Path) -> None:
    job = _job(
        tmp_path,
        "select sum(range)::hugeint as total, now()::timestamp_ns as at, 1::utinyint as small from range(10)",
        [("total", "integer"), ("at", "timestamp"), ("small", "integer")],
    )
    result = DuckDBEngine(threads=1).run(job)
    assert result.rows == 1
    assert _types(job.output_dir) == {"total": "BIGINT", "at": "TIMESTAMP", "small": "BIGINT"}
    assert dict(result.schema) == {"total": "BIGINT", "at": "TIMESTAMP", "small": "BIGINT"}


def test_columns_are_written_in_declared_order(tmp_path: Path) -> None:
    job = _job(tmp_path, "select 2 as b, 'x' as a", [("a", "string"), ("b", "integer")])
    DuckDBEngine().run(job)
    assert list(_types(job.output_dir)) == ["a", "b"]


def test_schema_mismatch_lists_every_problem(tmp_path: Path) -> None:
    job = _job(tmp_path, "select 1 as a, 'x' as b, 3 as c", [("a", "string"), ("b", "string"), ("d", "date")])
    with pytest.raises(SchemaMismatch) as caught:
        DuckDBEngine().run(job)
    assert caught.value.missing == ["d"] and caught.value.extra == ["c"]
    assert caught.value.mistyped == [("a", "string", "INTEGER")]


@pytest.mark.parametrize(
    "sql", ["create table x as select 1 as a", "select 1 as a; select 2 as a", "copy (select 1) to '/tmp/x.csv'"]
)
def test_only_one_select_per_step(tmp_path: Path, sql: str) -> None:
    with pytest.raises(TransformError, match="exactly one SELECT"):
        DuckDBEngine().run(_job(tmp_path, sql, [("a", "integer")]))


def test_spark_sql_is_transpiled_and_unknown_functions_are_refused(tmp_path: Path) -> None:
    spark = _job(tmp_path, "select size(array(1, 2, 3)) as n", [("n", "integer")], dialect="spark")
    assert DuckDBEngine().run(spark).rows == 1
    odd = _job(tmp_path / "2", "select my_udf(1) as n", [("n", "integer")], dialect="spark")
    with pytest.raises(TransformError, match=r"cannot be translated from spark: (MY_UDF|my_udf)"):
        DuckDBEngine().run(odd)


def test_content_hash_ignores_row_order_but_not_values(tmp_path: Path) -> None:
    columns = [("a", "integer")]
    up = DuckDBEngine().run(_job(tmp_path / "1", "select range as a from range(100) order by a", columns))
    down = DuckDBEngine().run(_job(tmp_path / "2", "select range as a from range(100) order by a desc", columns))
    other = DuckDBEngine().run(_job(tmp_path / "3", "select range + 1 as a from range(100)", columns))
    assert up.content_hash == down.content_hash != other.content_hash


def test_csv_relation_options(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("a;b\n1;x\n2;y\n")
    job = _job(tmp_path, "select a, b from src", [("a", "integer"), ("b", "string")])
    job = TransformJob(
        (Relation("src", "csv", (str(source),), (("header", True), ("delimiter", ";"))),),
        job.columns,
        job.output_dir,
        steps=job.steps,
    )
    assert DuckDBEngine().run(job).rows == 2
