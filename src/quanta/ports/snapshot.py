"""What a port reads: one snapshot's data files and the SELECT list the caller may see."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SnapshotView:
    """A published snapshot as a port reads it; ``columns`` already masks what the caller may not see."""

    id: str
    rows: int
    published_at: datetime | None
    files: tuple[str, ...]
    columns: tuple[str, ...]
    artefacts: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "rows": self.rows, "published_at": self.published_at, "artefacts": self.artefacts}


@contextmanager
def connected(views: dict[str, SnapshotView | None], template: SnapshotView) -> Iterator[Any]:
    """An in-memory DuckDB connection with one view per snapshot; a missing snapshot is an empty
    view shaped like ``template``, so queries over it still run."""
    import duckdb

    connection = duckdb.connect(":memory:")
    try:
        for name, view in views.items():
            source = view or template
            relation = connection.read_parquet(list(source.files)).select(
                *(duckdb.SQLExpression(c) for c in source.columns)
            )
            if view is None:
                relation = relation.limit(0)
            relation.create_view(name)
        yield connection
    finally:
        connection.close()
