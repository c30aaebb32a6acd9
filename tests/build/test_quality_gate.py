"""Write-audit-publish: blocking check failures keep the new snapshot unpublished (kept for
inspection) and the previous one current; warnings publish; every SLI is stored."""

from __future__ import annotations

import pytest
from four_mesh import FourMesh
from helpers import build, read

from quanta.project import Mesh


def test_blocking_failure_keeps_previous_snapshot_current(four: FourMesh) -> None:
    build(four.root)
    before = read(four.root, "sales.orders")
    four.edit(
        "products/sales/orders/dataproduct.yaml",
        "{name: amount, logicalType: number, required: true}",
        "{name: amount, logicalType: number, required: true, logicalTypeOptions: {maximum: 100}}",
    )
    outcome = build(four.root)["sales.orders@v1"]
    assert outcome.status == "failed"
    assert "max:amount: 1 failing row(s)" in (outcome.error or "") and "kept unpublished" in (outcome.error or "")
    assert read(four.root, "sales.orders") == before
    mesh = Mesh.load(four.root)
    catalog = mesh.workspace.catalog
    rejected = catalog.snapshots.get(outcome.snapshot_id or "")
    assert rejected is not None and rejected.status == "rejected"
    assert catalog.snapshots.current("sales.orders@v1").id != rejected.id  # type: ignore[union-attr]
    assert len(mesh.read("sales.orders", snapshot_id=rejected.id)) == 4  # kept for inspection
    slis = {s.check_id: s.status for s in catalog.slis.of("sales.orders@v1", rejected.id)}
    assert slis["max:amount"] == "failed" and slis["required:order_id"] == "passed"
    mesh.close()


def test_non_blocking_slo_failure_warns_and_publishes(four: FourMesh) -> None:
    four.edit("products/sales/orders/dataproduct.yaml", "schedule:", "slos: {volume: {minRows: 100}}\nschedule:")
    outcome = build(four.root)["sales.orders@v1"]
    assert outcome.status == "built"
    mesh = Mesh.load(four.root)
    current = mesh.workspace.catalog.snapshots.current("sales.orders@v1")
    assert current is not None and current.id == outcome.snapshot_id
    (volume,) = [s for s in mesh.workspace.catalog.slis.of("sales.orders@v1") if s.check_id == "volume:min-rows"]
    assert (volume.status, volume.observed, volume.limit) == ("warning", 4.0, 100.0)
    mesh.close()


def test_slo_document_reports_status_attainment_and_budget(four: FourMesh) -> None:
    four.edit(
        "products/sales/orders/dataproduct.yaml",
        "schedule:",
        "slos: {freshness: {maxAge: 1d}, volume: {minRows: 3, target: 50%}}\nschedule:",
    )
    build(four.root)
    four.write("data/orders/2026-11-05.csv", "order_id,customer_id,amount,order_date\no-9,c-2,5.0,2026-11-05\n")
    four.edit("products/sales/orders/dataproduct.yaml", "minRows: 3", "minRows: 5")
    build(four.root)
    mesh = Mesh.load(four.root)
    (document,) = mesh.slo_documents(["sales.orders"])
    mesh.close()
    assert document["schema"] == "quanta.slo-document/v1" and document["currentSnapshot"]["rows"] == 5
    objectives = {o["name"]: o for o in document["objectives"]}
    assert objectives["freshness"]["kind"] == "time" and objectives["freshness"]["current"]["status"] == "passed"
    assert objectives["freshness"]["attainment"] == 1.0
    volume = objectives["volume"]
    assert (volume["samples"], volume["attainment"], volume["target"]) == (2, 1.0, 0.5)
    assert [h["observed"] for h in volume["history"]] == [4.0, 5.0]
    assert document["schemaChecks"]["attainment"] == 1.0


def test_volume_change_against_the_previous_snapshot_warns(four: FourMesh) -> None:
    four.edit("products/sales/orders/dataproduct.yaml", "schedule:", "slos: {volume: {maxChange: 10%}}\nschedule:")
    build(four.root)
    four.write("data/orders/2026-11-05.csv", "order_id,customer_id,amount,order_date\no-9,c-2,5.0,2026-11-05\n")
    outcome = build(four.root)["sales.orders@v1"]
    assert outcome.status == "built"  # not blocking: it warns and publishes
    mesh = Mesh.load(four.root)
    (change,) = [
        s
        for s in mesh.workspace.catalog.slis.of("sales.orders@v1", outcome.snapshot_id)
        if s.check_id == "volume:change"
    ]
    mesh.close()
    assert (change.status, change.observed) == ("warning", 0.25)


def test_business_keys_must_exist_in_the_owner_product(four: FourMesh) -> None:
    four.edit(
        "mesh.yaml",
        "products: [",
        "businessKeys:\n  - {name: customer_id, logicalType: string, owner: customer.customers}\nproducts: [",
    )
    four.edit(
        "products/sales/orders/dataproduct.yaml",
        "{name: customer_id, logicalType: string, required: true}",
        "{name: customer_id, logicalType: string, required: true, businessKey: customer_id}",
    )
    four.edit(
        "products/customer/customers/dataproduct.yaml",
        "primaryKey: true}",
        "primaryKey: true, businessKey: customer_id}",
    )
    first = build(four.root, select=["sales.orders"])["sales.orders@v1"]
    assert first.status == "built"  # the owner has no snapshot yet: not checked (a warning), not a pass
    build(four.root, select=["customer.customers"])
    four.write("data/orders/2026-11-05.csv", "order_id,customer_id,amount,order_date\no-9,c-404,5.0,2026-11-05\n")
    outcome = build(four.root, select=["sales.orders"])["sales.orders@v1"]
    assert outcome.status == "failed" and "references:customer_id: 1 row(s) reference unknown customer_id" in (
        outcome.error or ""
    )


def test_schema_conformance_and_schedule_are_measured(four: FourMesh) -> None:
    build(four.root)
    four.edit("products/sales/orders/orders.sql", "cast(amount as double) as amount", "'x' as amount")
    assert build(four.root)["sales.orders@v1"].status == "failed"
    mesh = Mesh.load(four.root)
    conformance = [s for s in mesh.workspace.catalog.slis.of("sales.orders@v1") if s.check_id == "schema:conformance"]
    assert [s.status for s in conformance] == ["passed", "failed"]
    assert "amount (declared number, got VARCHAR)" in (conformance[-1].message or "")
    (document,) = mesh.slo_documents(["sales.orders"])
    mesh.close()
    schedule = next(o for o in document["objectives"] if o["name"] == "schedule")
    assert schedule["objective"] == {"schedule": "0 5 * * *", "maxGap": 86400.0}
    assert schedule["current"]["status"] == "passed" and schedule["attainment"] == 1.0
    assert document["schemaChecks"]["attainment"] == 0.5  # one conforming snapshot, one failed build


def test_port_series_from_the_serving_layer_count_in_the_document(four: FourMesh) -> None:
    from datetime import UTC, datetime, timedelta

    from quanta.catalog import SliRecord

    four.edit(
        "products/sales/orders/dataproduct.yaml",
        "schedule:",
        "outputs: [{id: api, type: rest}]\nslos: {availability: {ports: [api], target: 90%}}\nschedule:",
    )
    build(four.root)
    mesh = Mesh.load(four.root)
    now = datetime.now(UTC)
    series = [
        SliRecord(
            "availability:api",
            "passed" if i % 5 else "failed",
            1.0 if i % 5 else 0.0,
            ">=",
            0.9,
            False,
            now - timedelta(hours=i),
        )
        for i in range(1, 11)
    ]  # 10 hourly measurements, 2 below target: each holds for an hour
    healthy = [SliRecord("availability:sql", "passed", 1.0, ">=", 0.9, False, now - timedelta(hours=9))]
    mesh.workspace.catalog.slis.store("sales.orders@v1", None, series + healthy)
    (document,) = mesh.slo_documents(["sales.orders"], now=now)
    mesh.close()
    availability = next(o for o in document["objectives"] if o["name"] == "availability")
    assert availability["kind"] == "time"
    assert availability["samples"] == 10 and availability["attainment"] == pytest.approx(0.8)  # the worse port
    assert availability["status"] == "budget exhausted"  # 20% of the time down against a 10% budget
