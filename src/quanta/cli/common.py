"""Helpers shared by commands: load the mesh, parse times, print tables."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from quanta.errors import QuantaError
from quanta.project import Mesh

MESH_OPTION_HELP = "Mesh folder or mesh.yaml."
MESH_OPTION = typer.Option(Path("."), "--mesh", "-m", help=MESH_OPTION_HELP)
PROFILE_OPTION = typer.Option(None, "--profile", help="Platform profile from mesh.yaml.")


def load(path: Path, profile: str | None = None) -> Mesh:
    return Mesh.load(path, profile=profile)


def console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def parse_time(text: str | None) -> datetime | None:
    """An ISO date or timestamp (UTC when no zone is given)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QuantaError(f"'{text}' is not an ISO date or timestamp such as 2026-11-29T12:00:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def arrow_table(table: Any, title: str | None = None) -> Table:
    """A pyarrow Table as a Rich table."""
    rich = Table(title=title, show_lines=False)
    for name in table.column_names:
        rich.add_column(name)
    for row in table.to_pylist():
        rich.add_row(*("∅" if v is None else str(v) for v in row.values()))
    return rich


def ago(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    seconds = (datetime.now(UTC) - moment).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"
