"""Helpers shared by commands: load the mesh, parse times, print tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from quanta.errors import QuantaError

if TYPE_CHECKING:  # the platform is imported when a command runs, not for --help
    from quanta.project import Mesh
    from quanta.project.scope import ProductScope

MESH_OPTION_HELP = "Mesh folder or mesh.yaml."
MESH_OPTION = typer.Option(Path("."), "--mesh", "-m", help=MESH_OPTION_HELP)
PROFILE_OPTION = typer.Option(None, "--profile", help="Platform profile from mesh.yaml.")
CATALOG_OPTION = typer.Option(
    None, "--catalog", help="Catalog URL (else QUANTA_CATALOG): read the catalog alone, no mesh folder needed."
)
STORAGE_OPTION = typer.Option(None, "--storage", help="Snapshot storage with --catalog (else QUANTA_STORAGE).")


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def load(path: Path, profile: str | None = None) -> Mesh:
    from quanta.project import Mesh

    return Mesh.load(path, profile=profile)


def scope(path: Path, profile: str | None, catalog: str | None, storage: str | None) -> ProductScope:
    """The mesh at ``path``, or the catalog named by ``--catalog`` / ``QUANTA_CATALOG`` when there is none."""
    from quanta.project.scope import open_scope

    return open_scope(path, profile, catalog, storage)


def print_json(data: Any) -> None:
    """Data as indented JSON on stdout (times in ISO 8601)."""
    typer.echo(json.dumps(data, indent=2, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v)))


def literal(value: object) -> Text:
    """A value shown as it is: never read as Rich markup or emoji."""
    return Text("∅" if value is None else str(value))


def console() -> Console:
    return Console(highlight=False, soft_wrap=False, emoji=False)


def parse_time(text: str | None) -> datetime | None:
    """An ISO date or timestamp (UTC when no zone is given)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QuantaError(f"'{text}' is not an ISO date or timestamp such as 2026-11-29T12:00:00") from None
    try:
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:
        raise QuantaError(f"'{text}' is out of range: in UTC it falls outside years 1 to 9999") from None


def arrow_table(table: Any, title: str | None = None) -> Table:
    """A pyarrow Table as a Rich table."""
    rich = Table(title=Text(title) if title else None, show_lines=False)
    for name in table.column_names:
        rich.add_column(Text(name))
    for row in table.to_pylist():
        rich.add_row(*(literal(v) for v in row.values()))
    return rich


def ago(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    seconds = (datetime.now(UTC) - moment).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"
