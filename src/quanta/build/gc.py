"""Garbage collection: old snapshots beyond ``keep`` (never the current one, nor what retention
needs), orphans that interrupted builds left behind (staging folders, folders the catalog does
not know), and landed raw API files no remaining snapshot's lineage refers to."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from quanta.catalog import Catalog, SnapshotRecord
from quanta.quality.retention import needed_for_retention, retention_sli
from quanta.spec.slo import RetentionSlo
from quanta.storage import LocalSnapshotStore, SnapshotLocation


@dataclass
class GcReport:
    snapshots: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    kept_for_retention: list[str] = field(default_factory=list)


def collect_garbage(
    catalog: Catalog,
    store: LocalSnapshotStore,
    keep: int,
    retention: Mapping[str, RetentionSlo] | None = None,
    now: datetime | None = None,
) -> GcReport:
    """Delete all but the ``keep`` newest snapshots of each product, except the current one and
    those a product's retention objective needs; then measure retention again."""
    report = GcReport()
    now = now or datetime.now(UTC)
    retention = retention or {}
    current = {record.id for record in catalog.current_all().values()}
    by_product: dict[str, list[SnapshotRecord]] = {}
    for record in catalog.snapshots():  # newest first
        by_product.setdefault(record.product_key, []).append(record)
    entries = {p.key: p for p in catalog.products()}
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
            catalog.delete_snapshot(record.id)
            store.delete(location, record.id)
            report.snapshots.append(record.id)
        if key in retention:
            left = [r for r in records if r.id not in report.snapshots]
            sli = retention_sli(left, catalog.first_published(key), retention[key], now)
            live = catalog.current(key)
            catalog.store_slis(key, live.id if live else None, [sli])
    report.orphans += [str(p) for p in store.clear_staging()]
    known = catalog.known_snapshot_ids()
    for location in store.locations():
        for path in store.incomplete(location):
            _remove(path, report)
        for snapshot_id in store.snapshot_ids(location):
            if snapshot_id not in known:
                _remove(store.snapshot_dir(location, snapshot_id), report)
    referenced = catalog.landed_fingerprints()
    for path in store.raw_files():
        if path.name.startswith(".") or path.stem not in referenced:  # unfinished or no longer in any lineage
            path.unlink(missing_ok=True)
            report.orphans.append(str(path))
    return report


def _remove(path: Path, report: GcReport) -> None:
    shutil.rmtree(path, ignore_errors=True)
    report.orphans.append(str(path))
