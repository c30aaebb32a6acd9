"""Open what a build of a checked-out mesh uses: the platform (catalog and storage), the engine,
and the checkout's local state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quanta.build.inputs import ConnectorRegistry
from quanta.build.product import Workspace
from quanta.engines.base import Capabilities, Engine, Measurements, Relation, TransformJob, WriteResult
from quanta.engines.capabilities import BY_NAME
from quanta.errors import ConfigError
from quanta.project.platform import Platform
from quanta.spec.index import ProductIndex
from quanta.spec.loader import MeshSource
from quanta.spec.mesh import PlatformSettings
from quanta.state import STATE_FILE, LocalState


def engine_for(settings: PlatformSettings) -> Engine:
    if settings.engine == "spark":
        raise ConfigError("the Spark engine is not available yet; set `engine: duckdb` (or QUANTA_ENGINE=duckdb)")
    from quanta.engines.duckdb import DuckDBEngine

    return DuckDBEngine(settings.threads, settings.memory_limit)


def open_workspace(
    source: MeshSource,
    settings: PlatformSettings,
    platform: Platform,
    connectors: ConnectorRegistry | None = None,
    engine: Engine | None = None,
) -> Workspace:
    return Workspace(
        mesh=source,
        index=ProductIndex.of(source),
        catalog=platform.catalog,
        store=platform.store,
        engine=engine or _LazyEngine(settings),
        connectors=connectors or ConnectorRegistry.builtin(),
        state=LocalState(source.root / STATE_FILE),
    )


class _LazyEngine:
    """Creates the real engine on first use, so a no-op build never imports it."""

    def __init__(self, settings: PlatformSettings) -> None:
        self._settings = settings
        self._engine: Engine | None = None
        self.capabilities: Capabilities = BY_NAME[settings.engine]
        if settings.engine == "spark":
            engine_for(settings)  # raises the configuration error now

    def _real(self) -> Engine:
        if self._engine is None:
            self._engine = engine_for(self._settings)
        return self._engine

    def run(self, job: TransformJob) -> WriteResult:
        return self._real().run(job)

    def query(self, relations: tuple[Relation, ...], sql: str) -> Any:
        return self._real().query(relations, sql)

    def measure(self, relation: Relation, metrics: list[Any]) -> Measurements:
        return self._real().measure(relation, metrics)

    def failing_keys(
        self, relation: Relation, metric: Any, keys: list[str], limit: int, masks: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        return self._real().failing_keys(relation, metric, keys, limit, masks)

    def orphans(self, relation: Relation, column: str, reference: Relation, reference_column: str) -> int:
        return self._real().orphans(relation, column, reference, reference_column)

    def interrupt(self) -> None:
        if self._engine is not None:
            self._engine.interrupt()
