"""File exports: a snapshot written by the engine to one Parquet or CSV file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from quanta.engines.interrupt import interruptible
from quanta.errors import QuantaError
from quanta.ports.snapshot import SnapshotView

FORMATS = {"parquet": "parquet", "csv": "csv"}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    format: str


def export_snapshot(view: SnapshotView, file_format: str, path: Path) -> ExportResult:
    """Write the snapshot (masked as ``view.columns`` says) to ``path``; DuckDB writes the file, and a
    partial file never replaces an existing one."""
    import duckdb

    if file_format not in FORMATS:
        raise QuantaError(f"unknown export format {file_format!r}; use one of: {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with duckdb.connect(":memory:") as connection:
        relation = connection.read_parquet(list(view.files)).select(*(duckdb.SQLExpression(c) for c in view.columns))
        if file_format == "parquet":  # on failure DuckDB removes the partial file itself
            interruptible(connection, lambda: relation.to_parquet(str(partial), compression="zstd"))
        else:
            interruptible(connection, lambda: relation.to_csv(str(partial), header=True))
    partial.replace(path)
    return ExportResult(path, view.rows, file_format)
