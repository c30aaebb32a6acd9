"""Write-audit-publish: blocking check failures keep the new snapshot unpublished (kept for
inspection) and the previous one current; warnings publish; every SLI is stored."""

from __future__ import annotations

from helpers import build, read

from conftest import FourMesh
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
    rejected = catalog.snapshot(outcome.snapshot_id or "")
    assert rejected is not None and rejected.status == "rejected"
    assert catalog.current("sales.orders@v1").id != rejected.id  # type: ignore[union-attr]
    assert len(mesh.read("sales.orders", snapshot_id=rejected.id)) == 4  # kept for inspection
    slis = {s.check_id: s.status for s in catalog.slis("sales.orders@v1", rejected.id)}
    assert slis["max:amount"] == "failed" and slis["required:order_id"] == "passed"
    mesh.close()


def test_non_blocking_slo_failure_warns_and_publishes(four: FourMesh) -> None:
    four.edit("products/sales/orders/dataproduct.yaml", "schedule:", "slos: {volume: {minRows: 100}}\nschedule:")
    outcome = build(four.root)["sales.orders@v1"]
    assert outcome.status == "built"
    mesh = Mesh.load(four.root)
    current = mesh.workspace.catalog.current("sales.orders@v1")
    assert current is not None and current.id == outcome.snapshot_id
    (volume,) = [s for s in mesh.workspace.catalog.slis("sales.orders@v1") if s.check_id == "volume:min-rows"]
    assert (volume.status, volume.observed, volume.limit) == ("warning", 4.0, 100.0)
    mesh.close()
