"""Engines by name: the built-ins and those installed packages declare as entry points.

An entry point in group ``quanta.engines`` names an :class:`EngineType`: its capabilities (data,
known without starting the engine) and a factory. The registry imports an engine's library only
when the factory runs, so a no-op build never pays for it.

    [project.entry-points."quanta.engines"]
    trino = "quanta_trino.declaration:ENGINE"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING

from quanta.engines.base import Capabilities

if TYPE_CHECKING:
    from quanta.engines.base import Engine

ENTRY_POINT_GROUP = "quanta.engines"

BUILTIN = {
    "duckdb": "quanta.engines.duckdb.declaration:ENGINE",
    "spark": "quanta.engines.spark.declaration:ENGINE",  # PySpark only when one is created (`quanta[spark]`)
}
"""Built-in engines: name → ``module:attribute`` of their :class:`EngineType` (imported on use)."""


@dataclass(frozen=True)
class EngineOptions:
    """Settings every engine may take (each uses what applies to it)."""

    threads: int | None = None
    memory_limit: str | None = None
    master: str | None = None
    """Where a distributed engine runs: ``local[*]``, ``spark://host:7077``, ``sc://host:15002``."""
    conf: tuple[tuple[str, str], ...] = ()
    """Engine-specific settings passed through as they are."""
    session: object | None = None
    """A session the engine runs on instead of starting its own (an injected SparkSession)."""


@dataclass(frozen=True)
class EngineType:
    """One kind of engine: what it can do and how to make one."""

    capabilities: Capabilities
    factory: Callable[[EngineOptions], Engine]

    @property
    def name(self) -> str:
        return self.capabilities.name


class UnknownEngine(LookupError):
    """No engine is registered under a name; the message lists the registered ones."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no engine '{name}' is registered (registered: {', '.join(known)})")
        self.name, self.known = name, known


@dataclass
class EngineRegistry:
    """Engine types by name; an instance owned by the facade (no global state)."""

    declared: dict[str, str | EngineType] = field(default_factory=dict)
    """name → an :class:`EngineType` or where to import it from (``module:attribute``)."""
    discover: bool = False

    @classmethod
    def builtin(cls) -> EngineRegistry:
        return cls(dict(BUILTIN))

    @classmethod
    def default(cls) -> EngineRegistry:
        """Built-ins, plus installed entry points (found the first time a name is looked up)."""
        registry = cls.builtin()
        registry.discover = True
        return registry

    def add(self, engine: EngineType) -> None:
        self.declared[engine.name] = engine

    def names(self) -> list[str]:
        """Every registered engine's name, sorted."""
        self._discover()
        return sorted(self.declared)

    def get(self, name: str) -> EngineType:
        """The engine type named ``name``; :class:`UnknownEngine` names the registered ones."""
        if name not in self.declared:
            self._discover()
        declared = self.declared.get(name)
        if declared is None:
            raise UnknownEngine(name, self.names())
        if isinstance(declared, str):
            declared = _load(declared)
            self.declared[name] = declared
        return declared

    def capabilities(self, name: str) -> Capabilities:
        return self.get(name).capabilities

    def create(self, name: str, options: EngineOptions | None = None) -> Engine:
        """A new engine of type ``name``."""
        return self.get(name).factory(options or EngineOptions())

    def _discover(self) -> None:
        if not self.discover:
            return
        from importlib.metadata import entry_points  # scanning installed packages is paid only here

        self.discover = False
        for point in entry_points(group=ENTRY_POINT_GROUP):
            self.declared.setdefault(point.name, point.value)


def _load(target: str) -> EngineType:
    module, _, attribute = target.partition(":")
    loaded = getattr(import_module(module), attribute)
    if not isinstance(loaded, EngineType):
        raise TypeError(f"{target} is not a quanta.engines.registry.EngineType")
    return loaded
