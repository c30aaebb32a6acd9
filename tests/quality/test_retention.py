"""Retention: what gc keeps for time travel, and the retention SLI on builds and after gc."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from quanta.catalog import SnapshotRecord
from quanta.project import Mesh
from quanta.quality.retention import needed_for_retention, retention_sli
from quanta.spec.slo import RetentionSlo

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def snapshot(day: float, status: str = "published") -> SnapshotRecord:
    at = T0 + timedelta(days=day)
    return SnapshotRecord(
        f"s{day:g}", "p@v1", "1.0.0", "b", status, at, at if status == "published" else None, 1, 1, "h", "", "", "", []
    )


def test_gc_must_keep_the_snapshot_current_at_the_horizon_and_everything_after() -> None:
    records = [snapshot(0), snapshot(5), snapshot(12), snapshot(14, "rejected"), snapshot(20)]
    now = T0 + timedelta(days=25)
    assert needed_for_retention(records, RetentionSlo(period="10d"), now) == {"s12", "s20"}  # horizon day 15
    assert needed_for_retention(records, RetentionSlo(period="10d", minSnapshots=3), now) == {"s5", "s12", "s20"}
    assert needed_for_retention(records, RetentionSlo(period="30d"), now) == {"s0", "s5", "s12", "s20"}


def test_retention_sli_reach_against_the_period_capped_by_the_products_age() -> None:
    now = T0 + timedelta(days=25)
    kept = [snapshot(12), snapshot(20)]
    met = retention_sli(kept, T0, RetentionSlo(period="10d"), now)
    assert (met.status, met.observed, met.limit) == ("passed", 13 * 86400, 10 * 86400)
    short = retention_sli([snapshot(20)], T0, RetentionSlo(period="10d"), now)
    assert short.status == "failed" and "5.0 days back, 10.0 days wanted" in (short.message or "")
    young = retention_sli([snapshot(20)], T0 + timedelta(days=20), RetentionSlo(period="365d"), now)
    assert (young.status, young.limit) == ("passed", 5 * 86400)  # cannot promise more history than exists
    few = retention_sli([snapshot(20)], T0, RetentionSlo(minSnapshots=2), now)
    assert few.status == "failed" and "1 snapshots kept, 2 wanted" in (few.message or "")
    new = retention_sli([snapshot(20)], T0 + timedelta(days=20), RetentionSlo(minSnapshots=2), now)
    assert new.status == "passed"  # only one was ever published


def _rebuild(mesh_dir: Path, times: int) -> Mesh:
    data = mesh_dir / "data/orders.csv"
    mesh = Mesh.load(mesh_dir)
    for i in range(times):
        lines = data.read_text().splitlines()
        data.write_text("\n".join([*lines, lines[1].replace(",", f"{i}x,", 1)]) + "\n")
        assert {o.key: o.status for o in mesh.build(select=["sales.orders"]).outcomes} == {"sales.orders@v1": "built"}
    return mesh


def test_gc_keeps_what_retention_needs_and_measures_it(mesh_dir: Path) -> None:
    spec = mesh_dir / "products/sales/orders/dataproduct.yaml"
    spec.write_text(
        spec.read_text().replace("  volume: {minRows: 1}", "  volume: {minRows: 1}\n  retention: {period: 30d}")
    )
    mesh = _rebuild(mesh_dir, 3)
    catalog = mesh.workspace.catalog
    first, second, third = sorted(catalog.snapshots.list("sales.orders@v1"), key=lambda s: s.created_at)
    assert [s.check_id for s in catalog.slis.of("sales.orders@v1", third.id)].count("retention") == 1
    # 30 days later, the horizon falls between the second and the third snapshot
    assert second.published_at is not None and third.published_at is not None
    now = second.published_at + timedelta(days=30) + (third.published_at - second.published_at) / 2
    report = mesh.gc(keep=1, now=now)
    assert report.snapshots == [first.id] and report.kept_for_retention == [second.id]
    assert mesh.read("sales.orders", snapshot_id=second.id).num_rows == second.rows  # time travel still works
    latest = [s for s in catalog.slis.of("sales.orders@v1") if s.check_id == "retention"][-1]
    assert latest.status == "passed" and latest.observed is not None and latest.observed >= 30 * 86400
    (objective,) = [
        o for o in mesh.slo_documents(["sales.orders"], now=now)[0]["objectives"] if o["name"] == "retention"
    ]
    assert objective["current"]["status"] == "passed"


def test_without_retention_gc_keeps_only_keep(mesh_dir: Path) -> None:
    mesh = _rebuild(mesh_dir, 3)
    report = mesh.gc(keep=1, now=datetime.now(UTC) + timedelta(days=30))
    assert len(report.snapshots) == 2 and report.kept_for_retention == []
