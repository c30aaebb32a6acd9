"""The Spark engine (``quanta[spark]``): the only package that imports PySpark.

Its names are imported lazily, so reading the engine's capabilities (:mod:`.declaration`) or
transpiling SQL for it (:mod:`.sql`) does not load PySpark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quanta.engines.spark.engine import SparkEngine

__all__ = ["SparkEngine"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from quanta.engines.spark import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
