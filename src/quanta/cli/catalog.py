"""``quanta catalog``: the shared registry — upgrade its schema, transfer ownership, list runs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from quanta.cli.common import (
    CATALOG_OPTION,
    MESH_OPTION,
    PROFILE_OPTION,
    STORAGE_OPTION,
    OutputFormat,
    ago,
    console,
    literal,
    print_json,
    scope,
)

app = typer.Typer(help="The catalog: the registry of published products.", no_args_is_help=True, rich_markup_mode=None)


@app.command("upgrade")
def upgrade(
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
    storage: str | None = STORAGE_OPTION,
) -> None:
    """Upgrade the catalog's schema to this Quanta's (a shared PostgreSQL catalog upgrades only so)."""
    from quanta.project.platform import upgrade_catalog
    from quanta.project.scope import scope_settings

    settings, root = scope_settings(mesh_path, profile, catalog, storage)
    before, after = upgrade_catalog(settings, root)
    if before == after:
        console().print(f"the catalog is at revision {after} already")
    else:
        console().print(f"upgraded the catalog from revision {before or '(empty)'} to {after}")


@app.command("transfer")
def transfer(
    product: str = typer.Argument(..., help="<domain>.<product> (every major) or <domain>.<product>@vN."),
    to: str = typer.Option(..., "--to", help="The mesh that owns it from now on."),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Move a product's ownership to another mesh (only that mesh may publish it afterwards)."""
    products = scope(mesh_path, profile, catalog, None)
    try:
        keys = products.catalog.products.transfer(product, to)
    finally:
        products.close()
    console().print(literal(f"{', '.join(keys)} now belong(s) to mesh '{to}'"))


@app.command("runs")
def runs(
    limit: int = typer.Option(20, "--limit", help="How many of the newest runs."),
    output: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="table or json."),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """The newest build runs; one whose process died without finishing shows as abandoned."""
    products = scope(mesh_path, profile, catalog, None)
    try:
        records = products.catalog.runs.runs(limit)
    finally:
        products.close()
    if output is OutputFormat.json:
        print_json([{**r.__dict__} for r in records])
        return
    table = Table(title=Text(f"{len(records)} run(s)"))
    for column in ("run", "status", "mesh", "who", "started", "seconds"):
        table.add_column(column)
    for r in records:
        seconds = f"{r.duration_s:.2f}" if r.duration_s is not None else "—"
        table.add_row(
            literal(r.id), literal(r.status), literal(r.mesh or "—"), literal(r.who), ago(r.started_at), seconds
        )
    console().print(table)
