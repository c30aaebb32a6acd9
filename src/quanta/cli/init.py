"""``quanta init NAME``: a new, valid, minimal mesh."""

from __future__ import annotations

from pathlib import Path

import typer


def init(
    name: str = typer.Argument(..., help="Mesh name (kebab-case); also the folder created."),
    directory: Path | None = typer.Option(None, "--dir", help="Folder to create (default: ./NAME)."),
) -> None:
    """Create a new mesh folder with one domain, one system of record and two products."""
    from quanta.blueprints import create_mesh

    target = directory or Path(name)
    created = create_mesh(name, target)
    typer.echo(f"created mesh '{name}' in {target} ({len(created)} files); next: quanta validate {target}")
