"""The files port: snapshot downloads as Parquet or CSV (written by the data plane's reader)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FORMATS = {"parquet": "parquet", "csv": "csv"}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    format: str
