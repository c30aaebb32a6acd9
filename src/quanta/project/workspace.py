"""Open what a build of a checked-out mesh uses: the platform (catalog and storage), the engines,
and the checkout's local state."""

from __future__ import annotations

from quanta.build.inputs import ConnectorRegistry
from quanta.build.product import Workspace
from quanta.engines.base import Engine
from quanta.engines.pool import EnginePool
from quanta.engines.registry import EngineOptions, EngineRegistry, UnknownEngine
from quanta.errors import ConfigError
from quanta.project.platform import Platform
from quanta.spec.index import ProductIndex
from quanta.spec.loader import MeshSource
from quanta.spec.mesh import PlatformSettings
from quanta.state import STATE_FILE, LocalState


def engine_pool(settings: PlatformSettings, registry: EngineRegistry | None = None) -> EnginePool:
    """The engines a build may use: the settings' engine by default, any registered one a product
    names; each is created on first use."""
    registry = registry or EngineRegistry.default()
    try:
        registry.capabilities(settings.engine)
    except UnknownEngine as exc:
        raise ConfigError(
            f"engine: {exc} (looked at QUANTA_ENGINE, the profile and `platform:` in mesh.yaml)"
        ) from None
    options = EngineOptions(
        threads=settings.threads,
        memory_limit=settings.memory_limit,
        master=settings.master,
        conf=tuple(sorted(settings.engine_conf.items())),
    )
    return EnginePool(registry, settings.engine, options)


def open_workspace(
    source: MeshSource,
    settings: PlatformSettings,
    platform: Platform,
    connectors: ConnectorRegistry | None = None,
    engine: Engine | None = None,
) -> Workspace:
    """A build's workspace; ``engine``, when given, is the default engine (tests inject one)."""
    return Workspace(
        mesh=source,
        index=ProductIndex.of(source),
        catalog=platform.catalog,
        store=platform.store,
        engines=EnginePool.of(engine) if engine is not None else engine_pool(settings),
        connectors=connectors or ConnectorRegistry.builtin(),
        state=LocalState(source.root / STATE_FILE),
    )
