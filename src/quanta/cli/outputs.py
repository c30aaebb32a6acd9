"""``quanta report`` and ``quanta export``: a product's report port and file export."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from quanta.cli.common import CATALOG_OPTION, MESH_OPTION, PROFILE_OPTION, STORAGE_OPTION, console, load, scope


class ReportFormat(StrEnum):
    html = "html"
    pdf = "pdf"


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


def report(
    product: str = typer.Argument(..., help="<domain>.<product>"),
    port: str = typer.Argument(..., help="Id of a report output port."),
    out: Path | None = typer.Option(None, "--out", "-o", help="File or folder (default .quanta/reports)."),
    snapshot: str | None = typer.Option(None, "--snapshot", help="Render this snapshot instead of the current."),
    file_format: ReportFormat | None = typer.Option(
        None, "--format", "-f", help="html or pdf (one the port lists; default: its first)."
    ),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
) -> None:
    """Render a report port to a self-contained HTML or PDF file (charts inline, no network needed)."""
    chosen = file_format.value if file_format is not None else None
    path = load(mesh_path, profile).report(product, port, snapshot_id=snapshot, out=out, file_format=chosen)
    console().print(f"wrote {path}")


def export(
    product: str = typer.Argument(..., help="<domain>.<product>"),
    file_format: ExportFormat = typer.Option(ExportFormat.parquet, "--format", "-f", help="parquet or csv."),
    out: Path | None = typer.Option(None, "--out", "-o", help="File or folder (default <product>-<snapshot>.<fmt>)."),
    snapshot: str | None = typer.Option(None, "--snapshot", help="Export this snapshot instead of the current."),
    unmask: bool = typer.Option(False, "--unmask", help="Write classified properties in clear."),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
    storage: str | None = STORAGE_OPTION,
) -> None:
    """Write a product snapshot to one Parquet or CSV file (classified properties masked unless --unmask)."""
    products = scope(mesh_path, profile, catalog, storage)
    try:
        result = products.export(product, file_format.value, out=out, snapshot_id=snapshot, unmask=unmask)
    finally:
        products.close()
    console().print(f"wrote {result.rows:,} rows to {result.path}")
