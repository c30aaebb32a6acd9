"""``quanta audit``: the audit log (who read what, and every change to access), and ``quanta
audit verify``, which walks its HMAC chain. Both need ``QUANTA_AUDIT_KEY``'s catalog."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table
from rich.text import Text

from quanta.cli.access import open_platform, parse_duration_option
from quanta.cli.common import CATALOG_OPTION, MESH_OPTION, PROFILE_OPTION, console, literal, print_json
from quanta.errors import QuantaError

if TYPE_CHECKING:
    from quanta.catalog import AuditRow

app = typer.Typer(help="The tamper-evident audit log: reads and access changes.", invoke_without_command=True)


class AuditFormat(StrEnum):
    table = "table"
    json = "json"
    ndjson = "ndjson"


@app.callback()
def audit(
    ctx: typer.Context,
    product: str | None = typer.Option(None, "--product", help="Only this product (domain.name or a key)."),
    principal: str | None = typer.Option(None, "--principal", help="Only what this principal did."),
    action: str | None = typer.Option(None, "--action", help="Only this action, e.g. read or grant.added."),
    since: str | None = typer.Option(None, "--since", help="An ISO time, or a duration back from now (24h, 7d)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the last N rows."),
    output: AuditFormat = typer.Option(AuditFormat.table, "--format", "-f", help="table, json or ndjson."),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Show the audit log, oldest first."""
    if ctx.invoked_subcommand is not None:
        return
    start = _since(since) if since is not None else None
    with open_platform(mesh_path, profile, catalog) as platform:
        rows = platform.catalog.audit.rows(product=product, actor=principal, action=action, since=start, limit=limit)
    if output is AuditFormat.json:
        print_json([_data(r) for r in rows])
    elif output is AuditFormat.ndjson:
        for r in rows:
            typer.echo(json.dumps(_data(r), default=str))
    else:
        _table(rows)


@app.command("verify")
def verify(
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Walk the HMAC chain: exit 1 naming every edited, inserted or deleted row."""
    with open_platform(mesh_path, profile, catalog) as platform:
        found = platform.catalog.audit.verify()
    out = console()
    if found.intact:
        out.print(literal(f"audit log intact: {found.rows} row(s), head at row {found.head_seq}"))
        return
    out.print(Text(f"audit log TAMPERED: {len(found.findings)} finding(s) in {found.rows} row(s)", style="bold red"))
    for finding in found.findings:
        out.print(literal(f"  row {finding.seq}: {finding.problem}"))
    raise typer.Exit(1)


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        if text[:1].isdigit() and not text[-1:].isdigit():
            return datetime.now(UTC) - parse_duration_option(text, "--since")
        raise QuantaError(f"--since '{text}': write an ISO time (2026-12-01T09:00) or a duration (24h, 7d)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _data(row: AuditRow) -> dict[str, Any]:
    e = row.entry
    return {
        "seq": row.seq,
        "at": row.at,
        "actor": e.actor,
        "action": e.action,
        "product": e.product,
        "port": e.port,
        "snapshot": e.snapshot,
        "statement": e.statement,
        "rows": e.rows,
        "decision": e.decision,
        "reason": e.reason,
        "data": e.data,
        "mac": row.mac,
    }


def _table(rows: list[AuditRow]) -> None:
    table = Table(title=Text(f"{len(rows)} audit row(s)"))
    for column in ("seq", "at (UTC)", "actor", "action"):
        table.add_column(column, no_wrap=True)
    table.add_column("what", overflow="fold")
    for r in rows:
        table.add_row(str(r.seq), r.at.strftime("%Y-%m-%d %H:%M:%S"), r.entry.actor, r.entry.action, _what(r))
    console().print(table)


def _what(row: AuditRow) -> str:
    e = row.entry
    if e.action == "read":
        port = f" port {e.port}" if e.port else ""
        rows = f", {e.rows} row(s)" if e.rows is not None else ""
        statement = f": {e.statement}" if e.statement and e.decision == "allow" else ""
        why = f" ({e.reason})" if e.decision == "deny" else ""
        return f"{e.decision} {e.product}{port}{rows}{statement}{why}"
    data = {k: v for k, v in e.data.items() if k != "subject" and v not in (None, [], {})}
    subject = e.data.get("subject", "")
    details = ", ".join(f"{k}={v}" for k, v in data.items())
    return f"{subject}" + (f" on {e.product}" if e.product else "") + (f": {details}" if details else "")
