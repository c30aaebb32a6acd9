"""``quanta slo``: each product's objectives with status, attainment and error budget."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from quanta.cli.common import MESH_OPTION_HELP, console, load


class SloFormat(StrEnum):
    table = "table"
    json = "json"


def slo(
    products: list[str] = typer.Argument(None, help="Products (default: all)."),
    mesh_path: Path = typer.Option(Path("."), "--mesh", "-m", help=MESH_OPTION_HELP),
    output: SloFormat = typer.Option(SloFormat.table, "--format", "-f", help="table, or json (the SLO document)."),
    profile: str | None = typer.Option(None, "--profile", help="Platform profile from mesh.yaml."),
) -> None:
    """Show SLO status, attainment over the window and remaining error budget."""
    documents = load(mesh_path, profile).slo_documents(products or None)
    if output is SloFormat.json:
        typer.echo(json.dumps(documents, indent=2, default=str))
        return
    from rich.table import Table

    table = Table(title="service level objectives")
    for column in ("product", "objective", "now", "attainment", "target", "budget left", "status"):
        table.add_column(column)
    for document in documents:
        for objective in document["objectives"]:
            now = objective["current"]["status"] if objective["current"] else "—"
            attainment = "—" if objective["attainment"] is None else f"{objective['attainment']:.1%}"
            budget = "—" if objective["budgetRemaining"] is None else f"{objective['budgetRemaining']:.0%}"
            table.add_row(
                document["key"],
                objective["name"],
                now,
                attainment,
                f"{objective['target']:.1%}",
                budget,
                objective["status"],
            )
    console().print(table)
