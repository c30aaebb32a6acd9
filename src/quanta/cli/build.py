"""``quanta plan``, ``quanta build`` and ``quanta gc``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from quanta.cli.common import MESH_OPTION_HELP, PROFILE_OPTION, console, literal, load

_STYLE = {
    "built": "green",
    "unchanged": "green",
    "skipped": "dim",
    "failed": "red",
    "blocked": "yellow",
    "build": "cyan",
    "check": "cyan",
    "skip": "dim",
}


def plan(
    path: Path = typer.Argument(Path("."), help=MESH_OPTION_HELP),
    select: list[str] = typer.Option([], "--select", "-s", help="Only these products (domain.name)."),
    full: bool = typer.Option(False, "--full", help="Rebuild everything."),
    due: bool = typer.Option(False, "--due", help="Also rebuild products whose schedule is due."),
    profile: str | None = PROFILE_OPTION,
) -> None:
    """Show what a build would do for each product and why."""
    from rich.table import Table

    items = load(path, profile).plan(select, full=full, due=due)
    table = Table(title="plan")
    for column in ("product", "action", "why"):
        table.add_column(column)
    for item in items:
        table.add_row(literal(item.key), f"[{_STYLE[item.action]}]{item.action}[/]", literal("; ".join(item.reasons)))
    console().print(table)


def build(
    path: Path = typer.Argument(Path("."), help=MESH_OPTION_HELP),
    select: list[str] = typer.Option([], "--select", "-s", help="Only these products (domain.name)."),
    full: bool = typer.Option(False, "--full", help="Rebuild everything."),
    due: bool = typer.Option(False, "--due", help="Also rebuild products whose schedule is due."),
    profile: str | None = PROFILE_OPTION,
) -> None:
    """Build products in dependency order into new snapshots; exit 1 if any failed."""
    from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
    from rich.table import Table

    mesh = load(path, profile)
    out = console()
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=out, transient=True
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def listener(key: str, phase: str, outcome: object) -> None:
            if phase == "start":
                tasks[key] = progress.add_task(f"building {key}", total=1)
            elif key in tasks:
                progress.update(tasks[key], completed=1, visible=False)

        report = mesh.build(select, full=full, due=due, listener=listener, arguments=sys.argv[1:])
    table = Table(title=f"build {report.run_id} ({report.duration_s:.2f} s)")
    for column in ("product", "status", "rows", "seconds", "why / error"):
        table.add_column(column, justify="right" if column in ("rows", "seconds") else "left")
    for outcome in report.outcomes:
        detail = outcome.error or "; ".join(outcome.reasons)
        table.add_row(
            literal(outcome.key),
            f"[{_STYLE[outcome.status]}]{outcome.status}[/]",
            "" if outcome.rows is None else f"{outcome.rows:,}",
            f"{outcome.duration_s:.2f}",
            literal(detail),
        )
    out.print(table)
    raise typer.Exit(0 if report.ok else 1)


def gc(
    path: Path = typer.Argument(Path("."), help=MESH_OPTION_HELP),
    keep: int = typer.Option(3, "--keep", help="Snapshots kept per product (the current one always)."),
    grace: str = typer.Option(
        "1h", "--grace", help="How long a superseded snapshot stays readable, and how old an orphan must be to go."
    ),
    profile: str | None = PROFILE_OPTION,
) -> None:
    """Delete old snapshots (never the current one, nor those a retention objective needs) and what
    interrupted builds left behind; safe beside running builds and readers."""
    from quanta.errors import QuantaError
    from quanta.spec.base import parse_duration

    try:
        window = parse_duration(grace)
    except ValueError as exc:
        raise QuantaError(f"--grace: {exc}") from None
    report = load(path, profile).gc(keep, grace=window)
    kept = f"; kept {len(report.kept_for_retention)} for retention" if report.kept_for_retention else ""
    if report.kept_for_readers:
        kept += f", {len(report.kept_for_readers)} superseded less than {grace} ago"
    if report.live_runs:
        kept += f"; {report.live_runs} build(s) running, so their files stay"
    console().print(f"removed {len(report.snapshots)} snapshot(s) and {len(report.orphans)} orphan(s){kept}")
