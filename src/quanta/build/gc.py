"""Garbage collection: old snapshots beyond ``keep`` (never the current one, nor what retention
needs), orphans that interrupted builds left behind (staging folders, folders the catalog does
not know), and landed raw API files no remaining snapshot's lineage refers to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath

from quanta.catalog import Catalog, SnapshotRecord
from quanta.quality.retention import needed_for_retention, retention_sli
from quanta.spec.slo import RetentionSlo
from quanta.storage import SnapshotLocation, SnapshotStore


@dataclass
class GcReport:
    snapshots: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    kept_for_retention: list[str] = field(default_factory=list)


def collect_garbage(
    catalog: Catalog,
    store: SnapshotStore,
    keep: int,
    retention: Mapping[str, RetentionSlo] | None = None,
    now: datetime | None = None,
) -> GcReport:
    """Delete all but the ``keep`` newest snapshots of each product, except the current one and
    those a product's retention objective needs; then measure retention again."""
    report = GcReport()
    now = now or datetime.now(UTC)
    retention = retention or {}
    current = {record.id for record in catalog.snapshots.current_all().values()}
    by_product: dict[str, list[SnapshotRecord]] = {}
    for record in catalog.snapshots.list():  # newest first
        by_product.setdefault(record.product_key, []).append(record)
    entries = {p.key: p for p in catalog.products.entries()}
    for key, records in by_product.items():
        entry = entries[key]
        location = SnapshotLocation(entry.domain, entry.name, entry.major)
        needed = needed_for_retention(records, retention[key], now) if key in retention else set()
        for record in records[keep:]:
            if record.id in current:
                continue
            if record.id in needed:
                report.kept_for_retention.append(record.id)
                continue
            catalog.snapshots.delete(record.id)
            store.delete(location, record.id)
            report.snapshots.append(record.id)
        if key in retention:
            left = [r for r in records if r.id not in report.snapshots]
            sli = retention_sli(left, catalog.snapshots.first_published(key), retention[key], now)
            live = catalog.snapshots.current(key)
            catalog.slis.store(key, live.id if live else None, [sli])
    report.orphans += store.clear_staging()
    known = catalog.snapshots.ids()
    for location in store.locations():
        report.orphans += store.remove_incomplete(location)
        for snapshot_id in store.snapshot_ids(location):
            if snapshot_id not in known:
                report.orphans.append(store.describe(location, snapshot_id))
                store.delete(location, snapshot_id)
    referenced = catalog.lineage.landed_fingerprints()
    for key in store.raw_files():
        name = PurePosixPath(key).name
        if name.startswith(".") or PurePosixPath(key).stem not in referenced:  # unfinished, or in no lineage
            report.orphans.append(store.delete_raw(key))
    return report
