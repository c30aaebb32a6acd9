"""The catalog: metadata store and the single source of truth for which snapshot is current."""

from quanta.catalog.store import Catalog, SliRecord, SnapshotRecord, StepRecord

__all__ = ["Catalog", "SliRecord", "SnapshotRecord", "StepRecord"]
