"""What only the Spark engine offers: Python transforms that take Spark DataFrames. (Everything
both engines do is in the conformance suite.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quanta.engines.base import Column, Relation, TransformError, TransformJob, file_uri
from quanta.engines.registry import EngineOptions, EngineRegistry

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    engine = EngineRegistry.default().create("spark", EngineOptions(master="local[2]"))
    yield engine
    engine.close()  # stops the session only if this engine started it


def _job(tmp_path: Path, build: Any) -> TransformJob:
    source = tmp_path / "orders.parquet"
    pq.write_table(pa.table({"customer": ["a", "b", "a"], "amount": [1, 2, 3]}), source)
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    return TransformJob(
        (Relation("orders", "parquet", (file_uri(source),)),),
        (Column("customer", "string"), Column("total", "integer")),
        out,
        python=build,
        python_mode="dataframe",
    )


def test_a_dataframe_transform_gets_spark_dataframes_and_spark_sql(spark: Any, tmp_path: Path) -> None:
    from pyspark.sql import DataFrame

    def build(inputs: Any) -> Any:
        assert isinstance(inputs["orders"], DataFrame)
        totals = inputs.sql("select customer, cast(sum(amount) as bigint) as total from orders group by customer")
        return totals, {"partitions": totals.rdd.getNumPartitions() > 0}

    transform = _job(tmp_path, build)
    result = spark.run(transform)
    assert result.artefacts == {"partitions": True}
    rows = pa.concat_tables([pq.read_table(transform.output_dir / f.path) for f in result.files]).to_pylist()
    assert sorted((r["customer"], r["total"]) for r in rows) == [("a", 4), ("b", 2)]


def test_a_dataframe_transform_must_return_a_dataframe(spark: Any, tmp_path: Path) -> None:
    with pytest.raises(TransformError, match="return a Spark DataFrame"):
        spark.run(_job(tmp_path, lambda inputs: inputs["orders"].toArrow()))
