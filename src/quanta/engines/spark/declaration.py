"""The Spark engine's registry entry: capabilities as data and a factory. PySpark is imported
only when the factory runs; a missing one is an error naming the extra to install."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quanta.engines.base import Capabilities
from quanta.engines.registry import EngineOptions, EngineType
from quanta.engines.spark.types import TYPES

if TYPE_CHECKING:
    from quanta.engines.base import Engine

CAPABILITIES = Capabilities(
    name="spark",
    dialect="spark",
    types=TYPES,
    # no hadoop-aws jars can be had offline: object-store snapshots are handed over as cached copies
    uri_schemes=frozenset({"file"}),
    python_modes=frozenset({"arrow", "dataframe"}),
    # one job at a time: a job's inputs and steps are temporary views of the one session
    parallel_jobs=False,
)


class SparkMissing(ImportError):
    """PySpark is not installed."""


def create(options: EngineOptions) -> Engine:
    try:
        from quanta.engines.spark.engine import SparkEngine
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("pyspark", "py4j"):
            raise SparkMissing(
                "the Spark engine needs PySpark: install it with `pip install 'quanta[spark]'` (and a Java 17+ runtime)"
            ) from exc
        raise
    engine = SparkEngine(options)
    engine.start()  # here, where a build waits for its engine, not inside the first product's job
    return engine


ENGINE = EngineType(CAPABILITIES, create)
