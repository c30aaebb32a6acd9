"""Each engine's capabilities, known without importing the engine."""

from __future__ import annotations

from quanta.engines.base import Capabilities

DUCKDB = Capabilities(name="duckdb", dialect="duckdb", concurrent_jobs=True, python_transforms=True)
SPARK = Capabilities(name="spark", dialect="spark", concurrent_jobs=False, python_transforms=True)

BY_NAME = {c.name: c for c in (DUCKDB, SPARK)}
