"""The embedded DuckDB engine: the only package that imports DuckDB.

Its names are imported lazily, so reading the engine's capabilities (:mod:`.declaration`) does not
load DuckDB. The read layer takes its connections from :mod:`.reader`; anything else that needs a
DuckDB connection (the example generator, Python transforms on another engine) from
:func:`connect`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quanta.engines.duckdb.engine import (
        DuckDBEngine,
        PythonInputs,
        arrow_transform,
        connect,
        legacy_content_hash,
    )

__all__ = ["DuckDBEngine", "PythonInputs", "arrow_transform", "connect", "legacy_content_hash"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from quanta.engines.duckdb import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
