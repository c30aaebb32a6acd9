"""Upgrading to the engine-neutral content hash rebuilds no consumer of an unchanged product:
while a product's content stays the same it keeps the hash its current snapshot was published
with (the DuckDB-only scheme before ``r1``); its first real change moves it to the new one."""

from __future__ import annotations

from pathlib import Path

from helpers import build, statuses
from sqlalchemy import update

from quanta.catalog.tables import lineage, snapshots
from quanta.engines.duckdb import legacy_content_hash
from quanta.project import Mesh
from quanta.storage import SnapshotLocation

ORDERS, REVENUE = "sales.orders@v1", "sales.daily-revenue@v1"


def _as_published_by_an_older_quanta(root: Path) -> str:
    """Rewrite the orders snapshot's hash, and its consumer's lineage, to the old scheme."""
    mesh = Mesh.load(root)
    try:
        catalog = mesh.workspace.catalog
        current = catalog.snapshots.current(ORDERS)
        assert current is not None and current.content_hash.startswith("r1:")
        location = SnapshotLocation("sales", "orders", 1)
        files = [str(f) for f in mesh.workspace.store.data_files(location, current.id)]
        _, old = legacy_content_hash(files)
        with catalog.engine.begin() as connection:
            connection.execute(update(snapshots).where(snapshots.c.id == current.id).values(content_hash=old))
            connection.execute(update(lineage).where(lineage.c.upstream_key == ORDERS).values(fingerprint=old))
        return old
    finally:
        mesh.close()


def test_an_unchanged_product_keeps_its_old_hash_and_its_consumers_stay(mesh_dir: Path) -> None:
    build(mesh_dir)
    old = _as_published_by_an_older_quanta(mesh_dir)
    data = mesh_dir / "data/orders.csv"
    data.write_text(data.read_text() + "\n")  # a new file, the same rows
    outcomes = build(mesh_dir)
    assert statuses(outcomes) == {ORDERS: "unchanged", REVENUE: "skipped"}
    mesh = Mesh.load(mesh_dir)
    try:
        current = mesh.workspace.catalog.snapshots.current(ORDERS)
        assert current is not None and current.content_hash == old
    finally:
        mesh.close()
    data.write_text(data.read_text() + data.read_text().splitlines()[1].replace("o-1001", "o-9999") + "\n")
    assert statuses(build(mesh_dir)) == {ORDERS: "built", REVENUE: "built"}
    mesh = Mesh.load(mesh_dir)
    try:
        current = mesh.workspace.catalog.snapshots.current(ORDERS)
        assert current is not None and current.content_hash.startswith("r1:")
    finally:
        mesh.close()
