"""gc beside builds and readers: it never removes what a live run is staging or publishing, the
current snapshot, nor a snapshot superseded within the grace period; orphans go only once they
are older than the grace period and no live run could still own them."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from four_mesh import FourMesh
from helpers import build, read

from quanta.project import Mesh
from quanta.storage import SnapshotLocation
from quanta.storage.local import new_id

ORDERS = SnapshotLocation("sales", "orders", 1)
BIG_ORDERS = (  # millions of rows, so a build stays in its staging folder for a noticeable time
    "select s.order_id || '-' || g.range as order_id, s.customer_id, cast(s.amount as double) as amount, "
    "cast(s.order_date as date) as order_date from staging s, range({rows}) g\n"
)


def _gc(root: Path, **options: object) -> object:
    mesh = Mesh.load(root)
    try:
        return mesh.gc(**options)  # type: ignore[arg-type]
    finally:
        mesh.close()


def _new_day(four: FourMesh, n: int) -> None:
    header = "order_id,customer_id,amount,order_date"
    four.write(f"data/orders/2026-12-{n:02d}.csv", f"{header}\nx-{n},c-1,1.0,2026-12-01\n")


def test_gc_leaves_a_live_build_s_staging_folder_and_the_build_publishes(four: FourMesh) -> None:
    build(four.root, select=["sales.orders"])
    four.write("products/sales/orders/orders.sql", BIG_ORDERS.format(rows=2_000_000))
    process = subprocess.Popen(
        [sys.executable, "-m", "quanta", "build", str(four.root), "--select", "sales.orders"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    staging = four.root / ".quanta/warehouse/_staging"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None and not any(staging.glob("*/sales/orders/v1/data/*")):
        time.sleep(0.01)
    assert process.poll() is None, "the build finished before gc could run beside it"
    report = _gc(four.root, keep=1, grace=timedelta(0))
    assert report.live_runs == 1  # type: ignore[attr-defined]
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr.decode()
    assert len(read(four.root, "sales.orders")) == 4 * 2_000_000


def test_a_snapshot_committed_but_not_yet_published_is_not_an_orphan_to_gc(four: FourMesh) -> None:
    """Between the store's commit and the catalog's publish a snapshot is unknown to the catalog;
    gc started before the commit must not take it for an orphan."""
    build(four.root, select=["sales.orders"])
    mesh = Mesh.load(four.root)
    try:
        store = mesh.workspace.store
        staged = store.staging_dir(new_id(), ORDERS)
        (staged / "data" / "part-0.parquet").write_bytes(b"PAR1")
        committing = new_id(datetime.now(UTC) + timedelta(seconds=1))  # made after gc began
        store.commit(staged, ORDERS, committing, {"files": []})
        mesh.gc(keep=1, grace=timedelta(0), now=datetime.now(UTC))
        assert committing in store.snapshot_ids(ORDERS)
        old = new_id(datetime.now(UTC) - timedelta(hours=2))
        store.commit(store.staging_dir(new_id(), ORDERS), ORDERS, old, {"files": []})
        report = mesh.gc(keep=1)  # an unknown snapshot older than the grace period is an orphan
        assert old not in store.snapshot_ids(ORDERS) and any(old in o for o in report.orphans)
    finally:
        mesh.close()


def test_a_live_run_s_committed_snapshot_made_before_gc_began_is_not_an_orphan(four: FourMesh) -> None:
    """The race the gc loop once lost: a build made its snapshot id, gc began and read the catalog,
    the build committed to the store; the folder is unknown to the catalog and older than gc's
    start, but its manifest names a live run, so it stays until that run has ended."""
    build(four.root, select=["sales.orders"])
    mesh = Mesh.load(four.root)
    try:
        runs, store = mesh.workspace.catalog.runs, mesh.workspace.store
        run_id = new_id()
        runs.start(run_id, "test", ["build"], mesh="four")
        made = new_id(datetime.now(UTC) - timedelta(seconds=1))  # before gc's start
        store.commit(store.staging_dir(run_id, ORDERS), ORDERS, made, {"buildId": run_id, "files": []})
        report = mesh.gc(keep=1, grace=timedelta(0))
        assert made in store.snapshot_ids(ORDERS) and report.live_runs == 1  # type: ignore[attr-defined]
        runs.finish(run_id, "failed", 1.0)
        report = mesh.gc(keep=1, grace=timedelta(0))  # its run ended without publishing: an orphan now
        assert made not in store.snapshot_ids(ORDERS)
    finally:
        mesh.close()


def test_a_superseded_snapshot_stays_readable_for_the_grace_period(four: FourMesh) -> None:
    build(four.root, select=["sales.orders"])
    mesh = Mesh.load(four.root)
    first = mesh.workspace.catalog.snapshots.current("sales.orders@v1")
    mesh.close()
    assert first is not None
    _new_day(four, 1)
    build(four.root, select=["sales.orders"])
    report = _gc(four.root, keep=1)
    assert first.id in report.kept_for_readers and not report.snapshots  # type: ignore[attr-defined]
    assert len(read(four.root, "sales.orders", snapshot_id=first.id)) == 4  # a reader that began before still reads
    report = _gc(four.root, keep=1, now=datetime.now(UTC) + timedelta(hours=2))
    assert report.snapshots == [first.id]  # type: ignore[attr-defined]
    assert len(read(four.root, "sales.orders")) == 5


def test_landed_responses_and_staging_stay_while_a_run_is_live(four: FourMesh) -> None:
    build(four.root, select=["sales.orders"])
    mesh = Mesh.load(four.root)
    try:
        runs, store = mesh.workspace.catalog.runs, mesh.workspace.store
        landing = new_id()
        runs.start(landing, "test", ["build"], mesh="four")  # a live run that landed a response, no lineage yet
        raw, _ = store.land_raw(ORDERS, "api", b'{"a": 1}\n')
        old = datetime.now(UTC).timestamp() - 7200
        os.utime(raw, (old, old))
        staged = store.staging_dir(landing, ORDERS)
        report = mesh.gc(keep=1, grace=timedelta(0))
        assert raw.exists() and staged.exists() and report.live_runs == 1
        runs.finish(landing, "succeeded", 1.0)
        report = mesh.gc(keep=1, grace=timedelta(0))
        assert not raw.exists() and not staged.exists() and str(raw) in report.orphans
    finally:
        mesh.close()


@pytest.mark.slow
def test_gc_in_a_loop_beside_builds_never_breaks_one(four: FourMesh) -> None:
    """What broke before: gc beside builds deleted their staging folders (27 of 30 failed) and once
    the new current snapshot."""
    build(four.root, select=["sales.orders"])
    four.write("products/sales/orders/orders.sql", BIG_ORDERS.format(rows=100_000))
    stop = threading.Event()
    failures: list[str] = []

    def collect() -> None:
        while not stop.is_set():
            result = subprocess.run(
                [sys.executable, "-m", "quanta", "gc", str(four.root), "--keep", "1", "--grace", "0s"],
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                failures.append(result.stderr)

    collector = threading.Thread(target=collect)
    collector.start()
    try:
        for n in range(1, 9):
            _new_day(four, n)
            result = subprocess.run(
                [sys.executable, "-m", "quanta", "build", str(four.root), "--select", "sales.orders"],
                capture_output=True,
                text=True,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            assert len(read(four.root, "sales.orders")) == (4 + n) * 100_000
    finally:
        stop.set()
        collector.join()
    assert not failures
    mesh = Mesh.load(four.root)
    try:
        current = mesh.workspace.catalog.snapshots.current("sales.orders@v1")
        assert current is not None and mesh.workspace.store.data_files(ORDERS, current.id)
        assert [i.action for i in mesh.plan(select=["sales.orders"])] == ["skip"]  # up to date, and it is there
    finally:
        mesh.close()
