"""Every metric kind the quality gate uses, measured over one table in one scan; failing keys
and orphans."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from conformance_kit import parquet_relation

from quanta.engines.base import Engine
from quanta.engines.metrics import Metric

TABLE = pa.table(
    {
        "id": pa.array([1, 2, 3, 3, 5], pa.int64()),
        "code": pa.array(["AB-1", "ab-2", None, "AB-3", "toolong-9"]),
        "score": pa.array([0.5, 1.5, 2.0, -1.0, None]),
        "at": pa.array([datetime(2026, 1, d) for d in (1, 2, 3, 4, 5)], pa.timestamp("us")),
    }
)

EXPECTED = [
    (Metric("not_null:code", "not_null", ("code",)), 1),
    (Metric("unique:id", "unique", ("id",)), 1),
    (Metric("unique:id,code", "unique", ("id", "code")), 0),
    (Metric("allowed:code", "allowed_values", ("code",), ("AB-1", "AB-3")), 2),
    (Metric("min:score", "min", ("score",), 0), 1),
    (Metric("max:score", "max", ("score",), 1.5), 1),
    (Metric("exclusive_min:score", "exclusive_min", ("score",), 0.5), 2),
    (Metric("exclusive_max:score", "exclusive_max", ("score",), 1.5), 2),
    (Metric("pattern:code", "pattern", ("code",), r"[A-Z]{2}-\d"), 2),
    (Metric("min_length:code", "min_length", ("code",), 5), 3),
    (Metric("max_length:code", "max_length", ("code",), 4), 1),
    (Metric("row_count", "row_count"), 5),
    (Metric("ratio:code", "non_null_ratio", ("code",)), 0.8),
    (Metric("max:at", "max_value", ("at",)), datetime(2026, 1, 5)),
]


def test_every_metric_kind_in_one_scan(engine: Engine, tmp_path: Path) -> None:
    relation = parquet_relation(tmp_path, "snapshot", TABLE)
    measured = engine.measure(relation, [metric for metric, _ in EXPECTED])
    assert measured.errors == {}
    assert measured.scans == 1
    for metric, expected in EXPECTED:
        value = measured.values[metric.id]
        if isinstance(expected, float):
            assert value == pytest.approx(expected), metric.id
        else:
            assert value == expected, metric.id


def test_a_metric_that_cannot_run_is_an_error_of_its_own(engine: Engine, tmp_path: Path) -> None:
    relation = parquet_relation(tmp_path, "snapshot", TABLE)
    broken = Metric("not_null:missing", "not_null", ("missing",))
    measured = engine.measure(relation, [Metric("row_count", "row_count"), broken])
    assert measured.values["row_count"] == 5
    assert set(measured.errors) == {"not_null:missing"}


def test_failing_keys_are_sorted_and_limited(engine: Engine, tmp_path: Path) -> None:
    relation = parquet_relation(tmp_path, "snapshot", TABLE)
    pattern = Metric("pattern:code", "pattern", ("code",), r"[A-Z]{2}-\d")
    assert engine.failing_keys(relation, pattern, ["id"], 5) == [{"id": 2}, {"id": 5}]
    assert engine.failing_keys(relation, Metric("unique:id", "unique", ("id",)), ["id"], 5) == [{"id": 3}]
    assert engine.failing_keys(relation, Metric("min:score", "min", ("score",), 0), ["id"], 1) == [{"id": 3}]


def test_orphans_count_values_missing_from_the_reference(engine: Engine, tmp_path: Path) -> None:
    relation = parquet_relation(tmp_path / "a", "snapshot", TABLE)
    reference = parquet_relation(tmp_path / "b", "reference", pa.table({"key": pa.array([1, 2, 9], pa.int64())}))
    assert engine.orphans(relation, "id", reference, "key") == 3
