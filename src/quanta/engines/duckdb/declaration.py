"""The DuckDB engine's registry entry: its capabilities as data and its factory (DuckDB itself is
imported only when the factory runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quanta.engines.base import Capabilities
from quanta.engines.duckdb.types import TYPES
from quanta.engines.registry import EngineOptions, EngineType

if TYPE_CHECKING:
    from quanta.engines.base import Engine

CAPABILITIES = Capabilities(
    name="duckdb",
    dialect="duckdb",
    types=TYPES,
    uri_schemes=frozenset({"file"}),  # httpfs cannot be installed offline: object-store files come cached
    python_modes=frozenset({"arrow"}),
    parallel_jobs=True,
)


def create(options: EngineOptions) -> Engine:
    from quanta.engines.duckdb.engine import DuckDBEngine

    return DuckDBEngine(options.threads, options.memory_limit)


ENGINE = EngineType(CAPABILITIES, create)
