"""``quanta query``: read-only SQL over current snapshots."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from quanta.cli.common import (
    CATALOG_OPTION,
    MESH_OPTION,
    PROFILE_OPTION,
    STORAGE_OPTION,
    arrow_table,
    console,
    parse_time,
    scope,
)


class QueryFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def query(
    sql: str = typer.Argument(..., help="One SELECT; products are tables named <domain>.<product>."),
    mesh_path: Path = MESH_OPTION,
    output: QueryFormat = typer.Option(QueryFormat.table, "--format", "-f", help="table, csv or json."),
    unmask: bool = typer.Option(False, "--unmask", help="Show classified properties in clear."),
    as_of: str | None = typer.Option(None, "--as-of", help="Read the snapshots current at this ISO time."),
    limit: int | None = typer.Option(None, "--limit", help="At most this many rows."),
    as_principal: str | None = typer.Option(
        None, "--as", help="Show exactly what this catalog principal would see (masks, row filters, denials)."
    ),
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
    storage: str | None = STORAGE_OPTION,
) -> None:
    """Query products with SQL (classified properties masked unless --unmask)."""
    products = scope(mesh_path, profile, catalog, storage)
    try:
        table = products.query(sql, unmask=unmask, as_of=parse_time(as_of), limit=limit, principal=as_principal)
    finally:
        products.close()
    if output is QueryFormat.table:
        console().print(arrow_table(table))
    elif output is QueryFormat.csv:
        import csv
        import sys

        writer = csv.writer(sys.stdout)
        writer.writerow(table.column_names)
        for row in table.to_pylist():
            writer.writerow(row.values())
    else:
        typer.echo(json.dumps(table.to_pylist(), default=str, indent=2))
