"""``quanta verify``: checksum every file of current (or given) snapshots against their manifests."""

from __future__ import annotations

from pathlib import Path

import typer

from quanta.cli.common import CATALOG_OPTION, MESH_OPTION, PROFILE_OPTION, STORAGE_OPTION, console, literal, scope


def verify(
    products: list[str] = typer.Argument(None, help="Products to verify (all when omitted)."),
    snapshot: str | None = typer.Option(None, "--snapshot", help="Verify this snapshot instead of the current."),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
    storage: str | None = STORAGE_OPTION,
) -> None:
    """Check every data file's size and checksum; exit 1 when any snapshot is damaged."""
    opened = scope(mesh_path, profile, catalog, storage)
    try:
        found = opened.verify(list(products or []), snapshot)
    finally:
        opened.close()
    out = console()
    damaged = 0
    for target, problems in found.items():
        if problems:
            damaged += 1
            out.print(literal(f"damaged {target}: " + "; ".join(problems)), style="red")
        else:
            out.print(literal(f"ok      {target}"))
    out.print(literal(f"{len(found)} snapshot(s) verified, {damaged} damaged"))
    raise typer.Exit(1 if damaged else 0)
