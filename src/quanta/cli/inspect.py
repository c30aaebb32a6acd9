"""``quanta status``, ``quanta show`` and ``quanta search``."""

from __future__ import annotations

from pathlib import Path

import typer

from quanta.cli.common import MESH_OPTION, MESH_OPTION_HELP, PROFILE_OPTION, ago, arrow_table, console, load


def status(
    path: Path = typer.Argument(Path("."), help=MESH_OPTION_HELP),
    profile: str | None = PROFILE_OPTION,
) -> None:
    """Every product with its current snapshot and last build."""
    from rich.table import Table

    mesh = load(path, profile)
    catalog = mesh.workspace.catalog
    current = catalog.current_all()
    table = Table(title=f"mesh {mesh.source.spec.name}")
    for column in ("product", "lifecycle", "snapshot", "rows", "published", "last build"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for product in sorted(mesh.source.products, key=lambda p: p.spec.key):
        snapshot = current.get(product.spec.key)
        attempt = catalog.last_attempt(product.spec.key)
        last = "—" if attempt is None else f"{attempt.status} {ago(attempt.started_at)}"
        if attempt is not None and attempt.error:
            last += f": {attempt.error[:80]}"
        table.add_row(
            product.spec.key,
            product.spec.status,
            snapshot.id if snapshot else "—",
            f"{snapshot.rows:,}" if snapshot else "—",
            ago(snapshot.published_at if snapshot else None),
            last,
        )
    console().print(table)


def show(
    product: str = typer.Argument(..., help="Product, e.g. sales.orders"),
    mesh_path: Path = MESH_OPTION,
    rows: int = typer.Option(5, "--rows", help="Sample rows to show."),
    profile: str | None = PROFILE_OPTION,
) -> None:
    """A product's job description, address, properties, snapshot, lineage and sample rows."""
    from rich.table import Table

    from quanta.plan.order import downstream_keys, upstream_keys
    from quanta.spec.index import address, sql_names

    mesh = load(mesh_path, profile)
    source = mesh.product(product)
    spec = source.spec
    out = console()
    out.print(f"[bold]{spec.ref}[/] v{spec.version} ({spec.status}) — {spec.description or 'no description'}")
    out.print(f"address: {address(spec)}   SQL: {', '.join(sql_names(spec))}")
    out.print(
        f"owner: {spec.domain} / {spec.team.name if spec.team else '—'}"
        + (f" <{spec.team.email}>" if spec.team and spec.team.email else "")
    )
    properties = Table(title="properties")
    for column in ("name", "type", "key", "classification", "description"):
        properties.add_column(column)
    for prop in spec.schema_.properties:
        key = "PK" if prop.primary_key else ("BK" if prop.business_key else "")
        properties.add_row(
            prop.name,
            prop.logical_type + ("" if prop.required or prop.primary_key else "?"),
            key,
            prop.classification or "",
            prop.description or "",
        )
    out.print(properties)
    index = mesh.workspace.index
    out.print("upstream: " + (", ".join(upstream_keys(source, index)) or "—"))
    out.print("downstream: " + (", ".join(downstream_keys(mesh.source, index, spec.key)) or "—"))
    out.print("output ports: " + (", ".join(f"{port.id} ({port.type})" for port in spec.outputs) or "—"))
    snapshot = mesh.workspace.catalog.current(spec.key)
    if snapshot is None:
        out.print("[yellow]no published snapshot yet[/] — run `quanta build`")
        return
    out.print(f"current snapshot: {snapshot.id}, {snapshot.rows:,} rows, published {ago(snapshot.published_at)}")
    if rows > 0:
        out.print(arrow_table(mesh.read(spec.key, limit=rows), title=f"sample ({rows} rows, classified masked)"))


def search(
    text: str = typer.Argument(..., help="Words to look for."),
    mesh_path: Path = MESH_OPTION,
) -> None:
    """Find products by name, description, tags and properties."""
    from rich.table import Table

    hits = load(mesh_path).search(text)
    table = Table(title=f"{len(hits)} product(s) matching '{text}'")
    for column in ("product", "description", "matched"):
        table.add_column(column)
    for hit in hits:
        table.add_row(hit.product.spec.ref, hit.product.spec.description or "", ", ".join(hit.matches))
    console().print(table)
