"""The report store on SQLite and PostgreSQL: a rendering is kept once per fingerprint and format
(a concurrent equal one is the one returned), goes with its snapshots when gc removes them, and a
scheduled tick is claimed by exactly one of several catalog clients racing for it."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quanta.catalog import Catalog, Descriptor, ProductEntry, SnapshotRecord
from quanta.catalog.reports import ReportRender

ENTRY = ProductEntry("sales.orders@v1", "sales.orders", "sales", "orders", 1, "1.0.0", "Orders.", "shop")
DESCRIPTOR = Descriptor(ENTRY.key, "1.0.0", {"name": "orders", "domain": "sales"}, {"r.html.j2": b"<p/>"}, "shop")
TICK = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def _url(catalog_url: str, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'catalog.db'}" if catalog_url.startswith("sqlite") else catalog_url


def _record(snapshot_id: str) -> SnapshotRecord:
    schema = [{"name": "id", "logicalType": "string"}]
    now = datetime.now(UTC)
    return SnapshotRecord(
        snapshot_id, ENTRY.key, "1.0.0", "b", "published", now, None, 1, 1, snapshot_id, "s", "k", "i", schema
    )


def _render(snapshot: str, previous: str | None, content: bytes, fingerprint: str = "f1") -> ReportRender:
    sha = hashlib.sha256(content).hexdigest()
    return ReportRender(
        ENTRY.key, "weekly", snapshot, previous, DESCRIPTOR.id, "pdf", fingerprint, "ann", "on-demand", sha, content
    )


def test_a_rendering_is_kept_once_and_goes_with_its_snapshots(catalog_url: str, tmp_path: Path) -> None:
    catalog = Catalog(_url(catalog_url, tmp_path))
    try:
        for snapshot in ("s1", "s2", "s3"):
            catalog.publish(ENTRY, DESCRIPTOR, _record(snapshot), [])
        kept = catalog.reports.keep(_render("s2", "s1", b"%PDF-first"))
        assert kept.id is not None and kept.rendered_at is not None and kept.content == b"%PDF-first"
        again = catalog.reports.keep(_render("s2", "s1", b"%PDF-second"))  # a concurrent equal rendering
        assert again == kept  # the first one kept stays
        assert catalog.reports.find("f1", "pdf") == kept and catalog.reports.find("f1", "html") is None
        other = catalog.reports.keep(_render("s3", "s2", b"%PDF-third", "f2"))
        assert [r.id for r in catalog.reports.renders(ENTRY.key, "weekly")] == [other.id, kept.id]
        catalog.snapshots.delete("s1")  # gc: the report that compared with it shows its data too
        assert [r.id for r in catalog.reports.renders()] == [other.id]
        catalog.snapshots.delete("s2")
        assert catalog.reports.renders() == []
    finally:
        catalog.close()


def test_a_tick_is_claimed_by_exactly_one_of_racing_clients(catalog_url: str, tmp_path: Path) -> None:
    url = _url(catalog_url, tmp_path)
    clients = [Catalog(url) for _ in range(4)]
    try:
        won: list[str] = []
        start = threading.Barrier(len(clients))

        def claim(n: int) -> None:
            start.wait()
            if clients[n].reports.claim_tick(ENTRY.key, "weekly", TICK, f"process-{n}"):
                won.append(f"process-{n}")

        threads = [threading.Thread(target=claim, args=(n,)) for n in range(len(clients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(won) == 1
        reports = clients[0].reports
        assert not reports.claim_tick(ENTRY.key, "weekly", TICK, "late")
        assert reports.claim_tick(ENTRY.key, "weekly", TICK + timedelta(days=7), "next-week")
        assert reports.claim_tick(ENTRY.key, "daily", TICK, "another-port")
        reports.finish_tick(ENTRY.key, "weekly", TICK, [7, 8])
        (claim_row,) = [t for t in reports.ticks(ENTRY.key, "weekly") if t.tick == TICK]
        assert claim_row.claimed_by == won[0] and claim_row.renders == (7, 8) and claim_row.error is None
        assert claim_row.finished_at is not None and claim_row.finished_at >= claim_row.claimed_at
        assert abs(reports.now() - datetime.now(UTC)) < timedelta(minutes=5)
    finally:
        for client in clients:
            client.close()


def test_an_unknown_trigger_is_refused(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        catalog.publish(ENTRY, DESCRIPTOR, _record("s1"), [])
        with pytest.raises(ValueError, match="unknown trigger"):
            catalog.reports.keep(ReportRender(ENTRY.key, "w", "s1", None, None, "pdf", "f", "a", "cron", "x", b""))
    finally:
        catalog.close()
