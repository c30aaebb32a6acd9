"""``Platform``: a shared catalog and snapshot storage, no checkout needed.

What ``quanta serve``, the web catalog and the catalog-only commands use: every product comes from
its published descriptor. A :class:`~quanta.project.mesh.Mesh` reads through one too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quanta.catalog import Catalog, Descriptor, ProductEntry
from quanta.errors import ConfigError, NotFound
from quanta.spec.errormap import suggest
from quanta.spec.loader import product_from_data
from quanta.spec.mesh import PlatformSettings
from quanta.spec.plugins import PluginRegistry
from quanta.spec.product import DataProduct
from quanta.storage import LocalSnapshotStore, SnapshotLocation, SnapshotStore

if TYPE_CHECKING:
    from quanta.explore.search import SearchHit
    from quanta.ports.files import ExportResult


@dataclass(frozen=True)
class PublishedProduct:
    """A product major as the catalog has it: its registry entry and its published spec."""

    entry: ProductEntry
    spec: DataProduct


class Platform:
    """The catalog and the snapshot storage (``store`` None: the catalog alone, no data reads)."""

    def __init__(self, catalog: Catalog, store: SnapshotStore | None, plugins: PluginRegistry | None = None) -> None:
        self.catalog = catalog
        self._store = store
        self.plugins = plugins or PluginRegistry.default()
        self._published: list[PublishedProduct] | None = None
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
        self.catalog.close()

    @property
    def store(self) -> SnapshotStore:
        if self._store is None:
            raise ConfigError(
                "no snapshot storage named: pass --storage or set QUANTA_STORAGE (a folder or s3://bucket/prefix)"
            )
        return self._store

    # ---------------------------------------------------------------- the registry

    def published(self) -> list[PublishedProduct]:
        """Every registered product major with its current published spec, by key."""
        if self._published is None:
            specs = self.catalog.products.published_specs()
            self._published = [
                PublishedProduct(entry, product_from_data(specs[entry.key], self.plugins, f"catalog:{entry.key}"))
                for entry in self.catalog.products.entries()
                if entry.key in specs
            ]
        return self._published

    def specs(self) -> list[DataProduct]:
        return [p.spec for p in self.published()]

    def spec(self, name: str) -> DataProduct:
        return self.product(name).spec

    @property
    def title(self) -> str:
        from quanta.catalog.database import shown_url

        return f"catalog {shown_url(self.catalog.engine)}"

    def product(self, name: str) -> PublishedProduct:
        """A published product by ``domain.name`` (its highest major) or ``domain.name@vN``."""
        published = self.published()
        exact = [p for p in published if name == p.spec.key]
        majors = [p for p in published if name == p.spec.ref]
        if exact or majors:
            return exact[0] if exact else max(majors, key=lambda p: p.spec.major)
        hint = suggest(name, sorted({p.spec.ref for p in published}))
        raise NotFound(f"the catalog has no product '{name}'" + (f"; {hint}" if hint else ""))

    def descriptor(self, name: str) -> Descriptor:
        """The current published descriptor (spec and served files) of a product."""
        product = self.product(name)
        descriptor = self.catalog.products.current_descriptor(product.spec.key)
        if descriptor is None:
            raise NotFound(f"{product.spec.key} has no published descriptor")
        return descriptor

    def search(self, text: str) -> list[SearchHit]:
        from quanta.explore.search import search

        return search(self.specs(), text)

    # ---------------------------------------------------------------- data

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
        from quanta.explore.read import read_table

        return read_table(self.catalog, self.store, self.product(name).spec, snapshot_id, as_of, unmask, limit)

    def query(self, sql: str, *, unmask: bool = False, as_of: datetime | None = None, limit: int | None = None) -> Any:
        """One read-only SELECT over every published product (tables ``<domain>.<product>``)."""
        from quanta.explore.read import query

        return query(self.specs(), self.catalog, self.store, sql, unmask=unmask, as_of=as_of, limit=limit)

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

        spec = self.product(name).spec
        return export(self.catalog, self.store, spec, file_format, out, snapshot_id, unmask)


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
