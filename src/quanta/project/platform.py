"""``Platform``: a shared catalog and snapshot storage, no checkout needed.

What ``quanta serve``, the web catalog and the catalog-only commands use: every product comes from
its published descriptor. A :class:`~quanta.project.mesh.Mesh` reads through one too.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quanta.access import LOCAL_OWNER
from quanta.catalog import Catalog, Descriptor
from quanta.errors import ConfigError, NotFound
from quanta.spec.mesh import PlatformSettings
from quanta.spec.plugins import PluginRegistry
from quanta.spec.product import DataProduct
from quanta.storage import LocalSnapshotStore, SnapshotLocation, SnapshotStore

if TYPE_CHECKING:
    from quanta.catalog.search import SearchHit
    from quanta.ports.files import ExportResult


class Platform:
    """The catalog and the snapshot storage (``store`` None: the catalog alone, no data reads)."""

    def __init__(self, catalog: Catalog, store: SnapshotStore | None, plugins: PluginRegistry | None = None) -> None:
        from quanta.read import DataPlane

        self.catalog = catalog
        self._store = store
        self.plane = DataPlane(catalog, lambda: self.store, plugins)
        if store is not None:
            backfill_descriptors(catalog, store)

    @classmethod
    def open(cls, settings: PlatformSettings, root: Path, lease_s: float | None = None) -> Platform:
        """The platform the settings name; relative paths are taken against ``root``."""
        from quanta.catalog.runs import DEFAULT_LEASE_S

        catalog = Catalog(catalog_url(settings, root), lease_s=lease_s or DEFAULT_LEASE_S)
        try:
            store = snapshot_store(settings, root) if settings.storage else None
            return cls(catalog, store)
        except BaseException:
            catalog.close()
            raise

    def close(self) -> None:
        self.plane.close()
        self.catalog.close()

    @property
    def store(self) -> SnapshotStore:
        if self._store is None:
            raise ConfigError(
                "no snapshot storage named: pass --storage or set QUANTA_STORAGE (a folder or s3://bucket/prefix)"
            )
        return self._store

    @property
    def title(self) -> str:
        from quanta.catalog.database import shown_url

        return f"catalog {shown_url(self.catalog.engine)}"

    # ---------------------------------------------------------------- the registry

    def specs(self) -> list[DataProduct]:
        """Every registered product major with its current published spec."""
        return self.plane.published()

    def spec(self, name: str) -> DataProduct:
        """A published product by ``domain.name`` (its highest major) or ``domain.name@vN``."""
        return self.plane.product(name)

    def search(self, text: str) -> list[SearchHit]:
        from quanta.catalog.search import search

        return search(self.specs(), text)

    # ---------------------------------------------------------------- data (as the platform owner)

    def read(
        self,
        name: str,
        *,
        snapshot_id: str | None = None,
        as_of: datetime | None = None,
        unmask: bool = False,
        limit: int | None = None,
    ) -> Any:
        """A product snapshot as a pyarrow Table (current, by id, or as of a time)."""
        from quanta.read import Selector

        selector = Selector(snapshot_id, as_of)
        return self.plane.table(LOCAL_OWNER, name, None, selector, unmask=unmask, limit=limit)

    def query(self, sql: str, *, unmask: bool = False, as_of: datetime | None = None, limit: int | None = None) -> Any:
        """One gated query over every published product (tables ``<domain>.<product>``)."""
        return self.plane.query(LOCAL_OWNER, sql, as_of=as_of, unmask=unmask, limit=limit)

    def export(
        self,
        name: str,
        file_format: str = "parquet",
        *,
        out: Path | None = None,
        snapshot_id: str | None = None,
        unmask: bool = False,
    ) -> ExportResult:
        """Write a product snapshot to one Parquet or CSV file (classified properties masked)."""
        from quanta.project.outputs import export

        return export(self.plane, self.spec(name), file_format, out, snapshot_id, unmask)

    def verify(self, names: list[str], snapshot_id: str | None = None) -> dict[str, list[str]]:
        """Checksum every file of each product's current snapshot (or ``snapshot_id``): problems by
        ``key@snapshot``; an empty list is a sound snapshot."""
        from quanta.read import Selector
        from quanta.read.plane import location_of

        specs = [self.spec(n) for n in names] if names else self.specs()
        found: dict[str, list[str]] = {}
        for spec in specs:
            try:
                record = self.plane.snapshot(spec, Selector(snapshot_id=snapshot_id))
            except NotFound:
                if snapshot_id is not None and names:
                    raise
                continue
            found[f"{spec.key} {record.id}"] = self.store.verify(location_of(spec), record.id)
        return found


def upgrade_catalog(settings: PlatformSettings, root: Path) -> tuple[str | None, str]:
    """Bring the catalog the settings name to this Quanta's schema (the one way a shared catalog is
    upgraded), then fill in descriptors from manifests when storage is named; returns (before, after)."""
    from quanta.catalog.database import create_catalog_engine
    from quanta.catalog.migrate import upgrade

    engine = create_catalog_engine(catalog_url(settings, root))
    try:
        revisions = upgrade(engine)
    finally:
        engine.dispose()
    Platform.open(settings, root).close()  # opening backfills descriptors when storage is known
    return revisions


def catalog_url(settings: PlatformSettings, root: Path) -> str:
    """The catalog URL with a relative SQLite path made absolute against ``root``."""
    url = settings.catalog
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        path = root / url.removeprefix(prefix)
        path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(path.resolve())
    return url


def snapshot_store(settings: PlatformSettings, root: Path) -> SnapshotStore:
    """A folder (relative to ``root``) or an ``s3://bucket/prefix`` with a local cache."""
    if settings.storage.startswith("s3://"):
        from quanta.storage.objectstore import ObjectSnapshotStore

        if not settings.storage.removeprefix("s3://").strip("/"):
            raise ConfigError(f"storage '{settings.storage}': name a bucket, e.g. s3://bucket/prefix")
        return ObjectSnapshotStore.from_url(settings.storage, _under(root, settings.cache), settings.storage_endpoint)
    if "://" in settings.storage:
        raise ConfigError(f"storage '{settings.storage}': use a folder or s3://bucket/prefix")
    return LocalSnapshotStore(_under(root, settings.storage))


def _under(root: Path, folder: str) -> Path:
    path = Path(folder)
    return path if path.is_absolute() else root / path


def backfill_descriptors(catalog: Catalog, store: SnapshotStore) -> int:
    """Fill in the descriptors of products published before the catalog kept them, from each
    snapshot's manifest; returns how many products were filled in. A no-op after the first time."""
    pending = catalog.products.pending_backfill()
    for entry in pending:
        location = SnapshotLocation(entry.domain, entry.name, entry.major)
        by_snapshot: dict[str, Descriptor] = {}
        for record in catalog.snapshots.list(entry.key):
            try:
                manifest = store.manifest(location, record.id)
            except (OSError, ValueError, KeyError):
                continue  # gone or unreadable: the snapshot keeps no descriptor
            if isinstance(manifest.get("spec"), dict):
                by_snapshot[record.id] = Descriptor(entry.key, record.version, manifest["spec"])
        current = catalog.snapshots.current(entry.key) or catalog.snapshots.last_published(entry.key)
        newest = by_snapshot.get(current.id) if current else None
        newest = newest or next(iter(by_snapshot.values()), None)
        catalog.products.adopt(entry, by_snapshot, newest)
    return len(pending)
