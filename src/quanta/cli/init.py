"""``quanta init NAME``: a new, valid, minimal mesh."""

from __future__ import annotations

from pathlib import Path

import typer


def init(
    name: str = typer.Argument(..., help="Mesh name (kebab-case); also the folder created."),
    directory: Path | None = typer.Option(None, "--dir", help="Folder to create (default: ./NAME)."),
    empty: bool = typer.Option(False, "--empty", help="Only mesh.yaml, no sample products: for a design workshop."),
) -> None:
    """Create a new mesh folder with one domain, one system of record and two products (or empty)."""
    from quanta.blueprints import create_mesh

    target = directory or Path(name)
    created = create_mesh(name, target, empty=empty)
    after = f"quanta design domain <name> --mesh {target}" if empty else f"quanta validate {target}"
    typer.echo(f"created mesh '{name}' in {target} ({len(created)} files); next: {after}")
