"""``quanta status``, ``quanta show`` and ``quanta search``: from a mesh folder, or from a catalog alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from quanta.cli.common import (
    CATALOG_OPTION,
    MESH_OPTION,
    MESH_OPTION_HELP,
    PROFILE_OPTION,
    STORAGE_OPTION,
    OutputFormat,
    ago,
    arrow_table,
    console,
    literal,
    print_json,
    scope,
)

FORMAT_OPTION = typer.Option(OutputFormat.table, "--format", "-f", help="table or json.")


def status(
    path: Path = typer.Argument(Path("."), help=MESH_OPTION_HELP),
    output: OutputFormat = FORMAT_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Every product with its current snapshot and last build."""
    from quanta.project.scope import status_rows

    products = scope(path, profile, catalog, None)
    try:
        rows = status_rows(products.catalog, products.specs())
        if output is OutputFormat.json:
            print_json({"scope": products.title, "products": rows})
            return
        table = Table(title=Text(products.title))
        for column in ("product", "lifecycle", "snapshot", "rows", "published", "last build"):
            table.add_column(column, justify="right" if column == "rows" else "left")
        for row in rows:
            attempt = row["lastBuild"]
            last = "—" if attempt is None else f"{attempt['status']} {ago(attempt['startedAt'])}"
            if attempt is not None and attempt["error"]:
                last += f": {attempt['error'][:80]}"
            table.add_row(
                literal(row["product"]),
                literal(row["lifecycle"]),
                literal(row["snapshot"] or "—"),
                f"{row['rows']:,}" if row["rows"] is not None else "—",
                ago(row["publishedAt"]),
                literal(last),
            )
        console().print(table)
    finally:
        products.close()


def show(
    product: str = typer.Argument(..., help="Product, e.g. sales.orders"),
    mesh_path: Path = MESH_OPTION,
    rows: int = typer.Option(5, "--rows", help="Sample rows to show."),
    output: OutputFormat = FORMAT_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
    storage: str | None = STORAGE_OPTION,
) -> None:
    """A product's job description, address, properties, snapshot, lineage and sample rows."""
    from quanta.project.scope import product_details

    products = scope(mesh_path, profile, catalog, storage)
    try:
        spec = products.spec(product)
        details = product_details(products.catalog, spec, products.specs())
        sample = products.read(spec.key, limit=rows) if details["snapshot"] and rows > 0 else None
        if output is OutputFormat.json:
            print_json({**details, "sample": sample.to_pylist() if sample is not None else []})
            return
        _print_details(details)
        if sample is not None:
            console().print(arrow_table(sample, title=f"sample ({rows} rows, classified masked)"))
    finally:
        products.close()


def _print_details(details: dict[str, Any]) -> None:
    out = console()
    team = details["team"] if isinstance(details["team"], dict) else {}
    heading = Text(f"{details['product']}", style="bold")
    heading.append(f" v{details['version']} ({details['lifecycle']}) — {details['description'] or 'no description'}")
    out.print(heading)
    out.print(literal(f"address: {details['address']}   SQL: {', '.join(details['sql'])}"))
    contact = f" <{team['email']}>" if team.get("email") else ""
    owner = f"owner: {details['domain']} / {team.get('name', '—')}{contact}"
    out.print(literal(owner + (f"   mesh: {details['mesh']}" if details["mesh"] else "")))
    properties = Table(title="properties")
    for column in ("name", "type", "key", "classification", "description"):
        properties.add_column(column)
    for prop in details["properties"]:
        key = "PK" if prop["primaryKey"] else ("BK" if prop["businessKey"] else "")
        properties.add_row(
            literal(prop["name"]),
            literal(prop["logicalType"] + ("" if prop["required"] else "?")),
            key,
            literal(prop["classification"] or ""),
            literal(prop["description"] or ""),
        )
    out.print(properties)
    out.print(literal("upstream: " + (", ".join(details["upstream"]) or "—")))
    out.print(literal("downstream: " + (", ".join(details["downstream"]) or "—")))
    ports = ", ".join(f"{p['id']} ({p['type']})" for p in details["outputs"])
    out.print(literal("output ports: " + (ports or "—")))
    snapshot = details["snapshot"]
    if not isinstance(snapshot, dict):
        out.print(Text("no published snapshot yet", style="yellow"), "— run `quanta build`")
        return
    out.print(
        f"current snapshot: {snapshot['id']}, {snapshot['rows']:,} rows, published {ago(snapshot['publishedAt'])}"
    )


def search(
    text: str = typer.Argument("", help="Words to look for (none: browse every product)."),
    domain: list[str] = typer.Option([], "--domain", help="Only products of this domain (repeatable)."),
    tag: list[str] = typer.Option([], "--tag", help="Only products with this tag (repeatable)."),
    status: list[str] = typer.Option([], "--status", help="Only products in this lifecycle status (repeatable)."),
    trust: list[str] = typer.Option([], "--trust", help="met, at-risk, breached or unmeasured (repeatable)."),
    limit: int = typer.Option(20, "--limit", min=1, max=1000, help="Hits to show."),
    mesh_path: Path = MESH_OPTION,
    output: OutputFormat = FORMAT_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Find products by name, description, tags, domain and properties, ranked with trust."""
    from quanta.catalog.search import SearchQuery

    query = SearchQuery(text, tuple(domain), tuple(tag), tuple(status), tuple(trust), limit=limit)
    products = scope(mesh_path, None, catalog, None)
    try:
        result = products.search(query)
    finally:
        products.close()
    if output is OutputFormat.json:
        from quanta.project.catalog_api import search_result

        print_json(search_result(result))
        return
    shown = f"'{text}'" if text else "(all)"
    table = Table(title=Text(f"{result.total} product(s) matching {shown}"))
    for column in ("product", "trust", "status", "description", "matched"):
        table.add_column(column)
    for hit in result.hits:
        d = hit.document
        table.add_row(
            literal(d.key), literal(d.trust), literal(d.status), literal(d.description), literal(", ".join(hit.matched))
        )
    console().print(table)
    for facet, counts in result.facets.items():
        if counts:
            console().print(Text(f"{facet}: " + ", ".join(f"{value} ({n})" for value, n in counts.items())))
