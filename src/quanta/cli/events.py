"""``quanta events``: request steps, grant changes, failed builds and SLO breaches, and ``quanta
events deliver``, one pass of announcing expiring grants and sending due events to the webhook."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table
from rich.text import Text

from quanta.cli.access import FORMAT_OPTION, open_platform, parse_duration_option
from quanta.cli.common import CATALOG_OPTION, MESH_OPTION, PROFILE_OPTION, OutputFormat, console, literal, print_json

if TYPE_CHECKING:
    from quanta.catalog import EventRecord

app = typer.Typer(
    help="Events: request steps, grant changes, failed builds, SLO breaches.", invoke_without_command=True
)


@app.callback()
def events(
    ctx: typer.Context,
    kind: str | None = typer.Option(None, "--kind", help="Only this kind (e.g. build.failed) or prefix (grant.)."),
    limit: int | None = typer.Option(50, "--limit", min=1, help="Only the last N events."),
    output: OutputFormat = FORMAT_OPTION,
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Show recent events, oldest first, with their webhook delivery state."""
    if ctx.invoked_subcommand is not None:
        return
    with open_platform(mesh_path, profile, catalog) as platform:
        found = platform.catalog.events.find(kind=kind, limit=limit)
    if output is OutputFormat.json:
        print_json([_data(e) for e in found])
        return
    table = Table(title=Text(f"{len(found)} event(s)"))
    for column in ("id", "at", "kind", "subject", "actor", "delivery"):
        table.add_column(column)
    for e in found:
        table.add_row(str(e.id), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.kind, e.subject, e.actor, _delivery(e))
    console().print(table)


@app.command("deliver")
def deliver(
    warn: str = typer.Option("7d", "--warn", help="Announce grants expiring within this long."),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Announce expiring and expired grants, then send due events to QUANTA_WEBHOOK_URL once."""
    from quanta.project.webhooks import WebhookSender

    within = parse_duration_option(warn, "--warn")
    with open_platform(mesh_path, profile, catalog) as platform:
        expiring, expired = platform.catalog.grants.announce(within)
        sender = WebhookSender.from_environment(platform.catalog.events)
        sent = sender.deliver_due() if sender is not None else None
    out = console()
    out.print(literal(f"announced {len(expiring)} expiring and {len(expired)} expired grant(s)"))
    if sent is None:
        out.print(literal("no webhook: set QUANTA_WEBHOOK_URL and QUANTA_WEBHOOK_SECRET to deliver events"))
    else:
        out.print(literal(f"delivered {sent[0]} event(s), {sent[1]} failed (retried with backoff)"))


def _delivery(event: EventRecord) -> str:
    if event.delivered_at is not None:
        return "delivered"
    if event.abandoned_at is not None:
        return f"abandoned after {event.attempts} attempt(s): {event.last_error}"
    if event.attempts:
        return f"retrying ({event.attempts} attempt(s)): {event.last_error}"
    return "pending"


def _data(event: EventRecord) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at,
        "kind": event.kind,
        "subject": event.subject,
        "actor": event.actor,
        "data": event.data,
        "delivery": _delivery(event),
    }
