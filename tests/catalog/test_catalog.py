"""The catalog on SQLite and PostgreSQL: publishing, current pointers, time travel, runs, gc."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quanta.catalog import Catalog, Descriptor, LineageRecord, ProductEntry, SnapshotRecord, StepRecord

ENTRY = ProductEntry("sales.orders@v1", "sales.orders", "sales", "orders", 1, "1.0.0", "Orders.", "shop")
DESCRIPTOR = Descriptor(ENTRY.key, "1.0.0", {"name": "orders", "domain": "sales"}, {}, "shop")


def _url(catalog_url: str, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'catalog.db'}" if catalog_url.startswith("sqlite") else catalog_url


def _record(snapshot_id: str, rows: int = 3, content: str = "c1") -> SnapshotRecord:
    return SnapshotRecord(
        snapshot_id,
        ENTRY.key,
        "1.0.0",
        "b1",
        "published",
        datetime.now(UTC),
        None,
        rows,
        100,
        content,
        "s",
        "k",
        "i",
        [{"name": "id", "logicalType": "string", "required": True, "primaryKey": True, "classification": None}],
    )


def test_publish_moves_the_current_pointer_and_keeps_history(catalog_url: str, tmp_path: Path) -> None:
    catalog = Catalog(_url(catalog_url, tmp_path))
    assert catalog.snapshots.current(ENTRY.key) is None
    lineage = [LineageRecord("exports", "files", "f1", system="webshop", source="a.csv")]
    published_at = catalog.publish(ENTRY, DESCRIPTOR, _record("s1"), lineage)
    first = catalog.snapshots.current(ENTRY.key)
    assert first is not None and first.id == "s1" and first.published_at == published_at
    assert first.descriptor_id == DESCRIPTOR.id
    catalog.publish(ENTRY, DESCRIPTOR, _record("s2", rows=5, content="c2"), [])
    second = catalog.snapshots.current(ENTRY.key)
    assert second is not None and (second.id, second.rows) == ("s2", 5)
    assert second.published_at is not None and second.published_at >= first.published_at
    assert [s.id for s in catalog.snapshots.list(ENTRY.key)] == ["s2", "s1"]
    assert catalog.snapshots.as_of(ENTRY.key, first.published_at) == catalog.snapshots.get("s1")
    assert catalog.snapshots.as_of(ENTRY.key, first.published_at - timedelta(seconds=1)) is None
    assert catalog.lineage.of("s1") == lineage
    assert catalog.products.entries() == [replace(ENTRY, descriptor_id=DESCRIPTOR.id)]
    with pytest.raises(ValueError, match="current"):
        catalog.snapshots.delete("s2")
    catalog.snapshots.delete("s1")
    assert catalog.snapshots.ids() == {"s2"}
    catalog.close()


def test_publish_times_come_from_the_database_clock(catalog_url: str, tmp_path: Path) -> None:
    catalog = Catalog(_url(catalog_url, tmp_path))
    record = _record("s1")
    record = replace(_record("s1"), created_at=datetime(2001, 1, 1, tzinfo=UTC))  # a wrong clock
    published_at = catalog.publish(ENTRY, DESCRIPTOR, record, [])
    assert published_at is not None and abs((published_at - datetime.now(UTC)).total_seconds()) < 60
    catalog.close()


def test_a_failed_publish_changes_nothing(catalog_url: str, tmp_path: Path) -> None:
    catalog = Catalog(_url(catalog_url, tmp_path))
    catalog.publish(ENTRY, DESCRIPTOR, _record("s1"), [])
    with pytest.raises(Exception):  # noqa: B017 - duplicate primary key, any driver error
        catalog.publish(ENTRY, DESCRIPTOR, _record("s1", rows=9), [])
    current = catalog.snapshots.current(ENTRY.key)
    assert current is not None and current.rows == 3
    catalog.close()


def test_runs_and_steps(catalog_url: str, tmp_path: Path) -> None:
    catalog = Catalog(_url(catalog_url, tmp_path))
    catalog.runs.start("r1", "alice", ["build"], "shop")
    step = StepRecord(
        "r1", ENTRY.key, "failed", ["code changed"], datetime.now(UTC).replace(microsecond=0), 1.5, error="boom"
    )
    catalog.runs.record_step(step)
    assert catalog.runs.runs()[0].status == "running"
    catalog.runs.finish("r1", "failed", 2.0)
    run = catalog.runs.runs()[0]
    assert (run.status, run.who, run.mesh, run.arguments) == ("failed", "alice", "shop", ["build"])
    assert catalog.runs.steps(run_id="r1") == [step]
    assert catalog.runs.last_attempt(ENTRY.key) == step
    catalog.close()


def test_a_run_whose_lease_expired_is_abandoned_and_loses_its_claims(catalog_url: str, tmp_path: Path) -> None:
    url = _url(catalog_url, tmp_path)
    dead = Catalog(url, lease_s=2.0)  # long enough for the checks below on a loaded CI machine (0.2 s flaked)
    dead.runs.start("dead", "alice", ["build"])
    assert dead.runs.claim(ENTRY.key, "dead") is None
    alive = Catalog(url, lease_s=30)
    alive.runs.start("alive", "bob", ["build"])
    assert alive.runs.claim(ENTRY.key, "alive") == "dead"  # held by a live run: wait
    assert dead.runs.run("dead").status == "running"  # type: ignore[union-attr]
    import time

    time.sleep(2.5)  # the dead run never renews its lease
    assert alive.runs.run("dead").status == "abandoned"  # type: ignore[union-attr]
    assert [r.id for r in alive.runs.live()] == ["alive"]
    assert alive.runs.claim(ENTRY.key, "alive") is None  # an abandoned claim is taken over
    alive.runs.release(ENTRY.key, "alive")
    assert dead.runs.claim(ENTRY.key, "dead") is None  # released: free again (dead's own claim attempt)
    dead.close()
    alive.close()


def test_the_heartbeat_keeps_a_run_alive(catalog_url: str, tmp_path: Path) -> None:
    import time

    catalog = Catalog(_url(catalog_url, tmp_path), lease_s=0.4)
    catalog.runs.start("r1", "alice", [])
    with catalog.runs.heartbeat("r1"):
        time.sleep(1.0)  # 2.5 leases
        assert catalog.runs.run("r1").status == "running"  # type: ignore[union-attr]
    time.sleep(0.6)
    assert catalog.runs.run("r1").status == "abandoned"  # type: ignore[union-attr]
    catalog.close()


def test_opening_twice_migrates_once(catalog_url: str, tmp_path: Path) -> None:
    url = _url(catalog_url, tmp_path)
    Catalog(url).close()
    from quanta.catalog.migrate import HEAD, current_revision

    catalog = Catalog(url)
    assert current_revision(catalog.engine) == HEAD
    catalog.close()
