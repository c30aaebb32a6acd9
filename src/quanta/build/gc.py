"""Garbage collection beside live builds and readers.

gc removes old snapshots beyond ``keep`` and what interrupted builds left behind (staging
folders, snapshot folders the catalog does not know, landed API responses no snapshot's lineage
refers to). It never races a build or a reader:

- it never touches the current snapshot, one published after gc started (gc decides on the
  records it listed when it began), or one that a retention objective needs;
- a snapshot that stopped being current less than ``grace`` ago stays, so a query or download
  that began before the publish finishes;
- an orphan is removed only once it is older than ``grace`` and no live run could still own it:
  a live run's staging folder stays, so does a snapshot its manifest says a live run committed
  (the catalog learns of it only at the publish that follows), and landed responses stay while
  any run is live (a build lands them before its lineage exists).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import PurePosixPath

from quanta.catalog import Catalog, SnapshotRecord
from quanta.quality.retention import needed_for_retention, retention_sli
from quanta.spec.slo import RetentionSlo
from quanta.storage import SnapshotLocation, SnapshotStore
from quanta.storage.local import made_before

DEFAULT_GRACE = timedelta(hours=1)
"""How long a superseded snapshot stays readable, and how old an orphan must be to go."""


@dataclass
class GcReport:
    snapshots: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    kept_for_retention: list[str] = field(default_factory=list)
    kept_for_readers: list[str] = field(default_factory=list)
    """Superseded less than the grace period ago."""
    live_runs: int = 0
    """Runs live when gc started: their staging folders and all landed responses were left alone."""


def collect_garbage(
    catalog: Catalog,
    store: SnapshotStore,
    keep: int,
    retention: Mapping[str, RetentionSlo] | None = None,
    now: datetime | None = None,
    grace: timedelta = DEFAULT_GRACE,
) -> GcReport:
    """Delete all but the ``keep`` newest snapshots of each product, except the current one, those
    superseded within ``grace`` and those a product's retention objective needs; then measure
    retention again and remove orphans older than ``grace`` that no live run owns."""
    now = now or datetime.now(UTC)
    live = {run.id for run in catalog.runs.live()}  # before listing: a run starting later is newer than the list
    report = GcReport(live_runs=len(live))
    _old_snapshots(catalog, store, keep, retention or {}, now, grace, report)
    _orphans(catalog, store, now - grace, live, report)
    return report


def _old_snapshots(
    catalog: Catalog,
    store: SnapshotStore,
    keep: int,
    retention: Mapping[str, RetentionSlo],
    now: datetime,
    grace: timedelta,
    report: GcReport,
) -> None:
    current = {record.id for record in catalog.snapshots.current_all().values()}
    by_product: dict[str, list[SnapshotRecord]] = {}
    for record in catalog.snapshots.list():  # newest first
        by_product.setdefault(record.product_key, []).append(record)
    entries = {p.key: p for p in catalog.products.entries()}
    for key, records in by_product.items():
        entry = entries[key]
        location = SnapshotLocation(entry.domain, entry.name, entry.major)
        needed = needed_for_retention(records, retention[key], now) if key in retention else set()
        superseded = _superseded_at(records)
        for record in records[keep:]:
            if record.id in current:
                continue
            if record.id in needed:
                report.kept_for_retention.append(record.id)
                continue
            if record.id in superseded and superseded[record.id] > now - grace:
                report.kept_for_readers.append(record.id)
                continue
            catalog.snapshots.delete(record.id)
            store.delete(location, record.id)
            report.snapshots.append(record.id)
        if key in retention:
            left = [r for r in records if r.id not in report.snapshots]
            sli = retention_sli(left, catalog.snapshots.first_published(key), retention[key], now)
            live = catalog.snapshots.current(key)
            catalog.slis.store(key, live.id if live else None, [sli])


def _superseded_at(records: list[SnapshotRecord]) -> dict[str, datetime]:
    """When each published snapshot stopped being current: when the next one was published."""
    published = [r for r in records if r.published_at is not None]  # newest first
    return {older.id: newer.published_at for newer, older in pairwise(published) if newer.published_at is not None}


def _built_by(store: SnapshotStore, location: SnapshotLocation, snapshot_id: str) -> str | None:
    """The run that committed a snapshot, from its manifest (None when unreadable)."""
    try:
        build_id = store.manifest(location, snapshot_id).get("buildId")
    except (OSError, ValueError):
        return None
    return build_id if isinstance(build_id, str) else None


def _orphans(catalog: Catalog, store: SnapshotStore, before: datetime, live: set[str], report: GcReport) -> None:
    report.orphans += store.clear_staging(keep=live, before=before)
    known = catalog.snapshots.ids()
    for location in store.locations():
        report.orphans += store.remove_incomplete(location, before)
        for snapshot_id in store.snapshot_ids(location):
            if snapshot_id in known or not made_before(snapshot_id, before):
                continue
            if _built_by(store, location, snapshot_id) in live:  # committed, not yet published
                continue
            report.orphans.append(store.describe(location, snapshot_id))
            store.delete(location, snapshot_id)
    if live:
        return
    referenced = catalog.lineage.landed_fingerprints()
    for key, modified in store.raw_files().items():
        name = PurePosixPath(key).name
        unreferenced = name.startswith(".") or PurePosixPath(key).stem not in referenced  # unfinished, or in no lineage
        if unreferenced and modified < before:
            report.orphans.append(store.delete_raw(key))
