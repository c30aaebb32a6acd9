"""Python transforms in ``arrow`` mode run unchanged on every engine: inputs as Arrow tables,
``inputs.sql()`` in DuckDB's dialect returning Arrow, artefacts passed through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conformance_kit import job, output, parquet_relation, sorted_rows

from quanta.engines.base import Engine, TransformError


def _inputs(tmp_path: Path) -> Any:
    return (parquet_relation(tmp_path / "in", "orders", pa.table({"customer": ["a", "b", "a"], "amount": [1, 2, 3]})),)


def test_inputs_arrive_as_arrow_and_sql_stays_duckdb(engine: Engine, tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def build(inputs: Any) -> Any:
        seen["names"] = sorted(inputs)
        orders = inputs["orders"]
        seen["type"] = type(orders)
        totals = inputs.sql("select customer, sum(amount)::bigint as total from orders group by all")
        return totals, {"customers": totals.num_rows}

    transform = job(
        tmp_path / "out",
        columns=[("customer", "string"), ("total", "integer")],
        relations=_inputs(tmp_path),
        python=build,
    )
    result = engine.run(transform)
    assert seen == {"names": ["orders"], "type": pa.Table}
    assert result.artefacts == {"customers": 2}
    assert sorted_rows(output(transform, result.files)) == [("a", 4), ("b", 2)]


def test_a_returned_arrow_table_is_written(engine: Engine, tmp_path: Path) -> None:
    def build(inputs: Any) -> Any:
        orders = inputs["orders"]
        return orders.append_column("double", pc.multiply(orders["amount"], 2)).drop_columns(["amount"])

    transform = job(
        tmp_path / "out",
        columns=[("customer", "string"), ("double", "integer")],
        relations=_inputs(tmp_path),
        python=build,
    )
    assert sorted_rows(output(transform, engine.run(transform).files)) == [("a", 2), ("a", 6), ("b", 4)]


def test_an_exception_in_the_transform_fails_it_with_its_message(engine: Engine, tmp_path: Path) -> None:
    def build(inputs: Any) -> Any:
        raise ValueError("no customers today")

    transform = job(tmp_path / "out", columns=[("a", "integer")], relations=_inputs(tmp_path), python=build)
    with pytest.raises(TransformError, match="ValueError: no customers today"):
        engine.run(transform)


def test_an_unknown_input_name_says_which_exist(engine: Engine, tmp_path: Path) -> None:
    transform = job(
        tmp_path / "out", columns=[("a", "integer")], relations=_inputs(tmp_path), python=lambda inputs: inputs["nope"]
    )
    with pytest.raises(TransformError, match="inputs are orders"):
        engine.run(transform)
