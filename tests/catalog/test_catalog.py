"""The catalog on SQLite and PostgreSQL: publishing, current pointers, time travel, runs, gc."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quanta.catalog import Catalog, SnapshotRecord, StepRecord
from quanta.catalog.store import LineageRecord, ProductEntry

ENTRY = ProductEntry("sales.orders@v1", "sales.orders", "sales", "orders", 1, "1.0.0", "Orders.")


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
    assert catalog.current(ENTRY.key) is None
    catalog.publish(ENTRY, _record("s1"), [LineageRecord("exports", "files", "f1", system="webshop", source="a.csv")])
    first = catalog.current(ENTRY.key)
    assert first is not None and first.id == "s1" and first.published_at is not None
    catalog.publish(ENTRY, _record("s2", rows=5, content="c2"), [])
    second = catalog.current(ENTRY.key)
    assert second is not None and (second.id, second.rows) == ("s2", 5)
    assert [s.id for s in catalog.snapshots(ENTRY.key)] == ["s2", "s1"]
    assert catalog.snapshot_as_of(ENTRY.key, first.published_at) == catalog.snapshot("s1")
    assert catalog.snapshot_as_of(ENTRY.key, first.published_at - timedelta(seconds=1)) is None
    assert catalog.lineage("s1") == [LineageRecord("exports", "files", "f1", system="webshop", source="a.csv")]
    assert catalog.products() == [ENTRY]
    with pytest.raises(ValueError, match="current"):
        catalog.delete_snapshot("s2")
    catalog.delete_snapshot("s1")
    assert catalog.known_snapshot_ids() == {"s2"}
    catalog.close()


def test_a_failed_publish_changes_nothing(catalog_url: str, tmp_path: Path) -> None:
    catalog = Catalog(_url(catalog_url, tmp_path))
    catalog.publish(ENTRY, _record("s1"), [])
    with pytest.raises(Exception):  # noqa: B017 - duplicate primary key, any driver error
        catalog.publish(ENTRY, _record("s1", rows=9), [])
    current = catalog.current(ENTRY.key)
    assert current is not None and current.rows == 3
    catalog.close()


def test_runs_steps_and_file_hashes(catalog_url: str, tmp_path: Path) -> None:
    catalog = Catalog(_url(catalog_url, tmp_path))
    catalog.start_run("r1", "alice", ["build"])
    step = StepRecord(
        "r1", ENTRY.key, "failed", ["code changed"], datetime.now(UTC).replace(microsecond=0), 1.5, error="boom"
    )
    catalog.record_step(step)
    catalog.finish_run("r1", "failed", 2.0)
    assert catalog.runs()[0]["status"] == "failed" and catalog.runs()[0]["who"] == "alice"
    assert catalog.steps(run_id="r1") == [step]
    assert catalog.last_attempt(ENTRY.key) == step
    catalog.store_hashes({"/a": (1, 2, "h1")})
    catalog.store_hashes({"/a": (1, 3, "h2"), "/b": (5, 6, "h3")})
    assert catalog.cached_hashes(["/a", "/b", "/c"]) == {"/a": (1, 3, "h2"), "/b": (5, 6, "h3")}
    catalog.close()


def test_opening_twice_migrates_once(catalog_url: str, tmp_path: Path) -> None:
    url = _url(catalog_url, tmp_path)
    Catalog(url).close()
    from quanta.catalog.migrate import HEAD, current_revision

    catalog = Catalog(url)
    assert current_revision(catalog.engine) == HEAD
    catalog.close()
