"""Open the catalog, snapshot storage and engine a mesh's platform settings point at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quanta.build.inputs import ConnectorRegistry
from quanta.build.product import Workspace
from quanta.catalog import Catalog
from quanta.engines.base import Capabilities, Engine, Measurements, Relation, TransformJob, WriteResult
from quanta.engines.capabilities import BY_NAME
from quanta.errors import ConfigError
from quanta.spec.index import ProductIndex
from quanta.spec.loader import MeshSource
from quanta.spec.mesh import Platform
from quanta.storage import LocalSnapshotStore, SnapshotStore


def catalog_url(platform: Platform, root: Path) -> str:
    """The catalog URL with a relative SQLite path made absolute against the mesh folder."""
    url = platform.catalog
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        path = root / url.removeprefix(prefix)
        path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(path.resolve())
    return url


def snapshot_store(platform: Platform, root: Path) -> SnapshotStore:
    """A folder (relative to the mesh) or an ``s3://bucket/prefix`` with a local cache."""
    if platform.storage.startswith("s3://"):
        from quanta.storage.objectstore import ObjectSnapshotStore

        if not platform.storage.removeprefix("s3://").strip("/"):
            raise ConfigError(f"storage '{platform.storage}': name a bucket, e.g. s3://bucket/prefix")
        return ObjectSnapshotStore.from_url(platform.storage, _under(root, platform.cache), platform.storage_endpoint)
    if "://" in platform.storage:
        raise ConfigError(f"storage '{platform.storage}': use a folder or s3://bucket/prefix")
    return LocalSnapshotStore(_under(root, platform.storage))


def _under(root: Path, folder: str) -> Path:
    path = Path(folder)
    return path if path.is_absolute() else root / path


def engine_for(platform: Platform) -> Engine:
    if platform.engine == "spark":
        raise ConfigError("the Spark engine is not available yet; set `engine: duckdb` (or QUANTA_ENGINE=duckdb)")
    from quanta.engines.duckdb import DuckDBEngine

    return DuckDBEngine(platform.threads, platform.memory_limit)


def open_workspace(
    source: MeshSource, platform: Platform, connectors: ConnectorRegistry | None = None, engine: Engine | None = None
) -> Workspace:
    return Workspace(
        mesh=source,
        index=ProductIndex.of(source),
        catalog=Catalog(catalog_url(platform, source.root)),
        store=snapshot_store(platform, source.root),
        engine=engine or _LazyEngine(platform),
        connectors=connectors or ConnectorRegistry.builtin(),
    )


class _LazyEngine:
    """Creates the real engine on first use, so a no-op build never imports it."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._engine: Engine | None = None
        self.capabilities: Capabilities = BY_NAME[platform.engine]
        if platform.engine == "spark":
            engine_for(platform)  # raises the configuration error now

    def _real(self) -> Engine:
        if self._engine is None:
            self._engine = engine_for(self._platform)
        return self._engine

    def run(self, job: TransformJob) -> WriteResult:
        return self._real().run(job)

    def query(self, relations: tuple[Relation, ...], sql: str) -> Any:
        return self._real().query(relations, sql)

    def measure(self, relation: Relation, metrics: list[Any]) -> Measurements:
        return self._real().measure(relation, metrics)

    def failing_keys(self, relation: Relation, metric: Any, keys: list[str], limit: int) -> list[dict[str, Any]]:
        return self._real().failing_keys(relation, metric, keys, limit)

    def orphans(self, relation: Relation, column: str, reference: Relation, reference_column: str) -> int:
        return self._real().orphans(relation, column, reference, reference_column)

    def interrupt(self) -> None:
        if self._engine is not None:
            self._engine.interrupt()
