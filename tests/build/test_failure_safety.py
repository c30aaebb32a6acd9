"""A build killed with SIGKILL at any point leaves the previous snapshot current and readable,
shows nothing partial to readers, and leaves only orphans that `gc` removes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from four_mesh import FourMesh
from helpers import build, read

from quanta.build.gc import GcReport
from quanta.project import Mesh
from quanta.storage import SnapshotLocation

ORDERS = SnapshotLocation("sales", "orders", 1)


def _state(root: Path) -> tuple[str | None, int, set[str], list[str]]:
    mesh = Mesh.load(root)
    try:
        catalog, store = mesh.workspace.catalog, mesh.workspace.store
        current = catalog.snapshots.current("sales.orders@v1")
        known = {s.id for s in catalog.snapshots.list("sales.orders@v1")}
        return current.id if current else None, len(known), known, store.snapshot_ids(ORDERS)
    finally:
        mesh.close()


LEASE_S = 1.0


def _build_subprocess(root: Path, fault: str | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "QUANTA_RUN_LEASE": str(LEASE_S)}  # a killed run's lease expires quickly
    if fault:
        env["QUANTA_FAULT"] = fault
    return subprocess.Popen(
        [sys.executable, "-m", "quanta", "build", str(root), "--select", "sales.orders"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _assert_previous_survives(root: Path, previous: str, count: int, fault: str) -> None:
    current, known_count, known, folders = _state(root)
    assert current == previous
    assert known_count == count
    staging = root / ".quanta/warehouse/_staging"
    if fault == "after-parquet":  # data written, never moved into place
        assert any(staging.glob("*/sales/orders/v1/data/*.parquet"))
    else:  # a complete folder moved into place but never registered: invisible to readers
        assert set(folders) - known
    assert len(read(root, "sales.orders")) == 4  # the new file's row is not visible
    report = _gc_once_the_lease_expired(root)
    _, _, known_after, folders_after = _state(root)
    assert set(folders_after) == known_after == known
    assert not staging.exists() or not any(staging.iterdir())
    assert len(report.orphans) >= 1
    outcome = build(root, select=["sales.orders"])["sales.orders@v1"]
    assert outcome.status == "built" and outcome.rows == 5


def _gc_once_the_lease_expired(root: Path) -> GcReport:
    """gc leaves what the killed run made until its lease expires, then removes it."""
    time.sleep(LEASE_S + 0.2)
    mesh = Mesh.load(root)
    try:
        return mesh.gc(keep=5, grace=timedelta(0))
    finally:
        mesh.close()


def _prepare(four: FourMesh) -> tuple[str, int]:
    build(four.root, select=["sales.orders"])
    previous, count, _, _ = _state(four.root)
    assert previous is not None
    four.write("data/orders/2026-11-05.csv", "order_id,customer_id,amount,order_date\no-9,c-2,5.0,2026-11-05\n")
    return previous, count


@pytest.mark.parametrize("fault", ["after-parquet", "before-catalog-commit", "during-catalog-commit"])
def test_kill_at_checkpoint(four: FourMesh, fault: str) -> None:
    previous, count = _prepare(four)
    process = _build_subprocess(four.root, fault)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL, stderr.decode()
    _assert_previous_survives(four.root, previous, count, fault)


@pytest.mark.slow
def test_kill_while_duckdb_writes_parquet(four: FourMesh) -> None:
    previous, count = _prepare(four)
    # a large output (millions of rows) so the Parquet file is written over a noticeable time
    four.write(
        "products/sales/orders/orders.sql",
        "select s.order_id || '-' || g.range as order_id, s.customer_id, cast(s.amount as double) as amount, "
        "cast(s.order_date as date) as order_date from staging s, range(3000000) g\n",
    )
    process = _build_subprocess(four.root)
    staging = four.root / ".quanta/warehouse/_staging"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if any(staging.glob("*/sales/orders/v1/data/*")):
            break
        time.sleep(0.01)
    assert process.poll() is None, "the build finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    current, known_count, _, _ = _state(four.root)
    assert (current, known_count) == (previous, count)
    assert len(read(four.root, "sales.orders")) == 4
    _gc_once_the_lease_expired(four.root)
    assert not any(staging.iterdir()) if staging.exists() else True
