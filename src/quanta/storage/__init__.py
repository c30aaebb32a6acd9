"""Snapshot files by id: write (staged, then committed atomically), read, list, delete.

Storage knows nothing of "current": the catalog alone says which snapshot is published.
"""

from quanta.storage.base import SnapshotStore
from quanta.storage.local import LocalSnapshotStore, SnapshotDamaged, SnapshotLocation, new_id

__all__ = ["LocalSnapshotStore", "SnapshotDamaged", "SnapshotLocation", "SnapshotStore", "new_id"]
