"""Checks implied by the schema and SLOs: exact counts, honest outcomes, one scan."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from quanta.engines.base import Relation
from quanta.engines.duckdb import DuckDBEngine
from quanta.engines.metric_sql import fused_query
from quanta.engines.metrics import Metric
from quanta.quality.compile import compile_checks
from quanta.quality.run import run_checks
from quanta.spec.product import DataProduct

ROWS = """SELECT * FROM (VALUES
    ('o-1', 'c-1', 'FR', 10.0, 'paid',    'a@x.io'),
    ('o-2', NULL,  'fr', -5.0, 'paid',    NULL),
    ('o-2', 'c-3', 'DE', 99.0, 'unknown', 'b@x.io'),
    ('o-4', 'c-4', NULL, 500.0, 'paid',   NULL)
) AS t(order_id, customer_id, country, amount, status, email)"""


def product(**extra: object) -> DataProduct:
    spec = {
        "apiVersion": "quanta/v1",
        "kind": "DataProduct",
        "name": "orders",
        "domain": "sales",
        "version": "1.0.0",
        "schema": {
            "properties": [
                {"name": "order_id", "logicalType": "string", "primaryKey": True},
                {"name": "customer_id", "logicalType": "string", "required": True},
                {
                    "name": "country",
                    "logicalType": "string",
                    "logicalTypeOptions": {"pattern": "[A-Z]{2}", "maxLength": 2},
                },
                {"name": "amount", "logicalType": "number", "logicalTypeOptions": {"minimum": 0, "maximum": 100}},
                {"name": "status", "logicalType": "string", "enum": ["paid", "refunded"]},
                {"name": "email", "logicalType": "string", "classification": "pii"},
            ]
        },
        "slos": {"completeness": {"properties": ["email"], "minRatio": "75%"}, "volume": {"minRows": 10}},
        **extra,
    }
    return DataProduct.model_validate(spec)


@pytest.fixture
def snapshot(tmp_path: Path) -> Relation:
    target = tmp_path / "orders.parquet"
    duckdb.execute(f"COPY ({ROWS}) TO '{target}' (FORMAT parquet)")
    return Relation("snapshot", "parquet", (str(target),))


def outcomes(snapshot: Relation, spec: DataProduct) -> dict[str, tuple[str, float | None]]:
    results = run_checks(DuckDBEngine(threads=1), snapshot, compile_checks(spec), spec)
    return {r.check.id: (r.status, r.observed) for r in results}


def test_each_check_counts_exactly(snapshot: Relation) -> None:
    assert outcomes(snapshot, product()) == {
        "primary-key:order_id": ("failed", 1.0),
        "required:order_id": ("passed", 0.0),
        "required:customer_id": ("failed", 1.0),
        "max_length:country": ("passed", 0.0),
        "pattern:country": ("failed", 1.0),
        "min:amount": ("failed", 1.0),
        "max:amount": ("failed", 1.0),
        "enum:status": ("failed", 1.0),
        "completeness:email": ("warning", 0.5),
        "volume:min-rows": ("warning", 4.0),
    }


def test_passing_data_passes(tmp_path: Path) -> None:
    target = tmp_path / "good.parquet"
    duckdb.execute(
        f"COPY (SELECT 'o-' || range AS order_id, 'c-1' AS customer_id, 'FR' AS country, 1.0 AS amount, "
        f"'paid' AS status, 'a@x.io' AS email FROM range(20)) TO '{target}' (FORMAT parquet)"
    )
    results = outcomes(Relation("snapshot", "parquet", (str(target),)), product())
    assert {status for status, _ in results.values()} == {"passed"}


def test_failure_samples_leave_classified_properties_out(snapshot: Relation) -> None:
    spec = product()
    results = {r.check.id: r for r in run_checks(DuckDBEngine(), snapshot, compile_checks(spec), spec)}
    assert results["min:amount"].sample == [{"order_id": "o-2"}]
    assert results["primary-key:order_id"].sample == [{"order_id": "o-2"}]
    assert all("email" not in row for r in results.values() for row in r.sample)


def test_a_check_that_cannot_run_is_an_error_not_a_pass(snapshot: Relation) -> None:
    spec = product()
    broken = spec.model_copy(deep=True)
    broken.schema_.properties.append(broken.schema_.properties[1].model_copy(update={"name": "missing_column"}))
    results = {r.check.id: r for r in run_checks(DuckDBEngine(), snapshot, compile_checks(broken), broken)}
    assert results["required:missing_column"].status == "error"
    assert "missing_column" in results["required:missing_column"].message
    assert results["required:customer_id"].status == "failed"  # the others still count
    assert results["required:missing_column"].blocks


def _scans(relation: Relation, metrics: list[Metric]) -> int:
    """Table scans in DuckDB's profile of the fused query (EXPLAIN ANALYZE runs and profiles it)."""
    connection = duckdb.connect()
    connection.read_parquet(list(relation.paths)).create_view("snapshot")
    profile = connection.execute("EXPLAIN ANALYZE " + fused_query(metrics, "snapshot")).fetchall()[0][1]
    connection.close()
    assert "PARQUET_SCAN" in profile
    return profile.count("Table Scan")


def test_all_per_table_metrics_are_one_scan(snapshot: Relation) -> None:
    checks = compile_checks(product())
    metrics = list({c.metric.id: c.metric for c in checks if c.metric}.values())
    more = metrics + [Metric(f"extra{i}", "not_null", ("amount",)) for i in range(5)]
    assert len(metrics) >= 9
    assert _scans(snapshot, metrics) == 1
    assert _scans(snapshot, more) == 1
    assert _scans(snapshot, metrics[:1]) + _scans(snapshot, metrics[1:2]) == 2  # separate queries scan twice


def test_freshness_of_a_timestamp_property(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    target = tmp_path / "events.parquet"
    duckdb.execute(
        f"COPY (SELECT 'o-1' AS order_id, TIMESTAMP '2026-11-20 12:00:00' AS at) TO '{target}' (FORMAT parquet)"
    )
    spec = DataProduct.model_validate(
        {
            "apiVersion": "quanta/v1",
            "kind": "DataProduct",
            "name": "events",
            "domain": "sales",
            "version": "1.0.0",
            "schema": {
                "properties": [
                    {"name": "order_id", "logicalType": "string"},
                    {"name": "at", "logicalType": "timestamp"},
                ]
            },
            "slos": {"freshness": {"maxAge": "2d", "timestamp": "at", "blocking": True}},
        }
    )
    relation = Relation("snapshot", "parquet", (str(target),))
    newest = datetime(2026, 11, 20, 12, tzinfo=UTC)
    fresh = run_checks(DuckDBEngine(), relation, compile_checks(spec), spec, now=newest + timedelta(days=1))
    stale = run_checks(DuckDBEngine(), relation, compile_checks(spec), spec, now=newest + timedelta(days=3))
    assert (fresh[0].status, fresh[0].observed) == ("passed", 86400.0)
    assert (stale[0].status, stale[0].observed) == ("failed", 3 * 86400.0)
