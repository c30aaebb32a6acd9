"""The engines one build uses: the platform's default and any a product names, each created on
first use (a no-op build creates none) and each admitting as many jobs at once as its
capabilities allow."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from quanta.engines.base import Capabilities, Engine
from quanta.engines.registry import EngineOptions, EngineRegistry


class EnginePool:
    """Engines by name, made from a registry with shared options (or injected, for tests)."""

    def __init__(
        self,
        registry: EngineRegistry,
        default: str,
        options: EngineOptions | None = None,
        injected: Mapping[str, Engine] | None = None,
    ) -> None:
        self.registry = registry
        self.default = default
        self.options = options or EngineOptions()
        self._engines: dict[str, Engine] = dict(injected or {})
        self._owned: set[str] = set()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, engine: Engine) -> EnginePool:
        """A pool of one ready engine, the default (its type need not be registered)."""
        name = engine.capabilities.name
        registry = EngineRegistry.builtin()
        if name not in registry.declared:
            from quanta.engines.registry import EngineType

            registry.add(EngineType(engine.capabilities, lambda _options: engine))
        return cls(registry, name, injected={name: engine})

    def capabilities(self, name: str | None = None) -> Capabilities:
        """What the named engine (the default when None) can do, without creating it."""
        name = name or self.default
        engine = self._engines.get(name)
        return engine.capabilities if engine is not None else self.registry.capabilities(name)

    def get(self, name: str | None = None) -> Engine:
        """The named engine (the default when None), created the first time it is asked for."""
        name = name or self.default
        with self._lock:
            engine = self._engines.get(name)
            if engine is None:
                engine = self._engines[name] = self.registry.create(name, self.options)
                self._owned.add(name)
            return engine

    @contextmanager
    def slot(
        self, name: str | None = None, waiting: Callable[[], AbstractContextManager[Any]] = nullcontext
    ) -> Iterator[Engine]:
        """The named engine, held for one job: one without parallel jobs runs one job at a time.
        ``waiting`` wraps the time spent waiting for it (a build does not bill that to the product)."""
        name = name or self.default
        with waiting():
            engine = self.get(name)
            with self._lock:
                slot = self._slots.get(name)
                if slot is None:
                    width = (os.cpu_count() or 1) if engine.capabilities.parallel_jobs else 1
                    slot = self._slots[name] = threading.BoundedSemaphore(width)
            slot.acquire()
        try:
            yield engine
        finally:
            slot.release()

    def interrupt(self) -> None:
        """Stop every job of every engine created so far (Ctrl-C during a build)."""
        with self._lock:
            engines = list(self._engines.values())
        for engine in engines:
            engine.interrupt()

    def close(self) -> None:
        """Release what the engines this pool created hold (a Spark session they started, …)."""
        with self._lock:
            engines = [self._engines.pop(name) for name in sorted(self._owned)]
            self._owned.clear()
        for engine in engines:
            close = getattr(engine, "close", None)
            if callable(close):
                close()
