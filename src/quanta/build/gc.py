"""Garbage collection: old snapshots beyond ``keep`` (never the current one) and orphans that
interrupted builds left behind (staging folders, folders the catalog does not know, raw files)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from quanta.catalog import Catalog
from quanta.storage import LocalSnapshotStore, SnapshotLocation


@dataclass
class GcReport:
    snapshots: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)


def collect_garbage(catalog: Catalog, store: LocalSnapshotStore, keep: int) -> GcReport:
    report = GcReport()
    current = {record.id for record in catalog.current_all().values()}
    by_product: dict[str, list[str]] = {}
    for record in catalog.snapshots():  # newest first
        by_product.setdefault(record.product_key, []).append(record.id)
    entries = {p.key: p for p in catalog.products()}
    for key, ids in by_product.items():
        entry = entries[key]
        location = SnapshotLocation(entry.domain, entry.name, entry.major)
        for snapshot_id in ids[keep:]:
            if snapshot_id in current:
                continue
            catalog.delete_snapshot(snapshot_id)
            store.delete(location, snapshot_id)
            report.snapshots.append(snapshot_id)
    report.orphans += [str(p) for p in store.clear_staging()]
    known = catalog.known_snapshot_ids()
    for location in store.locations():
        for path in store.incomplete(location):
            _remove(path, report)
        for snapshot_id in store.snapshot_ids(location):
            if snapshot_id not in known:
                _remove(store.snapshot_dir(location, snapshot_id), report)
    return report


def _remove(path: Path, report: GcReport) -> None:
    shutil.rmtree(path, ignore_errors=True)
    report.orphans.append(str(path))
