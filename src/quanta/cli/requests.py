"""``quanta access request|requests|approve|reject|withdraw``: the access-request workflow, thin
over :class:`~quanta.project.requests.AccessRequests`.

The local CLI user holds the catalog and acts as a platform admin; ``--as`` acts as a catalog
principal instead (a requester asking, an approver deciding)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table
from rich.text import Text

from quanta.cli.access import FORMAT_OPTION, open_platform, parse_duration_option
from quanta.cli.common import CATALOG_OPTION, MESH_OPTION, PROFILE_OPTION, OutputFormat, console, literal, print_json

if TYPE_CHECKING:
    from quanta.access import Principal
    from quanta.catalog import RequestRecord
    from quanta.project.platform import Platform

AS_OPTION = typer.Option(None, "--as", help="Act as this catalog principal (default: the platform admin).")


def request(
    product: str = typer.Argument(..., help="Product, e.g. sales.orders or sales.orders@v1."),
    principal: str = typer.Option(..., "--as", help="Who asks (a catalog principal): the grant goes to them."),
    ports: list[str] = typer.Option(..., "--port", help="An output port id asked for (repeatable)."),
    purpose: str = typer.Option(..., "--purpose", help="Why the access is needed."),
    duration: str = typer.Option("30d", "--for", help="How long, e.g. 8h, 30d (at most 366d)."),
    unmask: list[str] = typer.Option([], "--unmask", help="A classified property to see in clear (repeatable)."),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Ask for access to a product; its approvers decide."""
    lasting = parse_duration_option(duration, "--for")
    with open_platform(mesh_path, profile, catalog) as platform:
        record = platform.requests.request(principal, product, list(ports), purpose, lasting, list(unmask))
        approvers = platform.requests.approvers(platform.spec(f"{record.product}@v{record.major}"))
    console().print(literal(f"request {record.id}: {principal} asks for {_asked(record)}; decided by {approvers}"))


def requests(
    status: str | None = typer.Option("pending", "--status", help="pending, approved, rejected, withdrawn or all."),
    product: str | None = typer.Option(None, "--product", help="Only this product (domain.name)."),
    principal: str | None = AS_OPTION,
    output: OutputFormat = FORMAT_OPTION,
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Access requests; with ``--as``, the pending ones that principal may decide and its own."""
    chosen = None if status == "all" else status
    with open_platform(mesh_path, profile, catalog) as platform:
        records = platform.catalog.requests.find(status=chosen, product=product.partition("@")[0] if product else None)
        if principal is not None:
            who = platform.principal(principal)
            decidable = {r.id for r in platform.requests.pending_for(who)}
            records = [r for r in records if r.id in decidable or r.principal_id == principal]
    if output is OutputFormat.json:
        print_json([_data(r) for r in records])
        return
    table = Table(title=Text(f"{len(records)} access request(s)"))
    for column in ("id", "status", "principal", "asks for", "purpose", "for", "requested", "decided by", "grant"):
        table.add_column(column)
    for r in records:
        table.add_row(
            str(r.id),
            r.status,
            r.principal_id,
            _asked(r),
            r.purpose,
            _lasting(r.duration_s),
            r.requested_at.strftime("%Y-%m-%d %H:%M") if r.requested_at else "—",
            r.decided_by or "—",
            str(r.grant_id) if r.grant_id else "—",
        )
    console().print(table)


def approve(
    request_id: int = typer.Argument(..., help="Request id (from `quanta access requests`)."),
    note: str | None = typer.Option(None, "--note", help="Why, for the requester and the audit log."),
    principal: str | None = AS_OPTION,
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Approve a request: its grant applies on every port at once, until it expires."""
    with open_platform(mesh_path, profile, catalog) as platform:
        who = _who(platform, principal)
        record = platform.requests.approve(request_id, who, note)
        grant = platform.catalog.grants.get(record.grant_id or 0)
    ends = grant.expires_at.strftime("%Y-%m-%d %H:%M UTC") if grant and grant.expires_at else "never"
    console().print(literal(f"approved request {request_id}: grant {record.grant_id}, valid until {ends}"))


def reject(
    request_id: int = typer.Argument(..., help="Request id."),
    note: str | None = typer.Option(None, "--note", help="Why, for the requester."),
    principal: str | None = AS_OPTION,
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Reject a request."""
    with open_platform(mesh_path, profile, catalog) as platform:
        who = _who(platform, principal)
        platform.requests.reject(request_id, who, note)
    console().print(literal(f"rejected request {request_id}"))


def withdraw(
    request_id: int = typer.Argument(..., help="Request id."),
    principal: str | None = AS_OPTION,
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Withdraw a pending request (its requester)."""
    with open_platform(mesh_path, profile, catalog) as platform:
        who = _who(platform, principal)
        platform.requests.withdraw(request_id, who)
    console().print(literal(f"withdrew request {request_id}"))


def _who(platform: Platform, principal: str | None) -> Principal:
    from quanta.access import LOCAL_OWNER

    return platform.principal(principal) if principal is not None else LOCAL_OWNER


def _asked(record: RequestRecord) -> str:
    unmask = f", unmasking {', '.join(record.unmask)}" if record.unmask else ""
    return f"{record.product}@v{record.major} through {', '.join(record.ports)}{unmask}"


def _lasting(seconds: int) -> str:
    if seconds % 86_400 == 0:
        return f"{seconds // 86_400}d"
    if seconds % 3_600 == 0:
        return f"{seconds // 3_600}h"
    return f"{seconds // 60}m"


def _data(record: RequestRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "status": record.status,
        "product": record.product,
        "major": record.major,
        "principal": record.principal_id,
        "ports": list(record.ports),
        "unmask": list(record.unmask),
        "purpose": record.purpose,
        "durationSeconds": record.duration_s,
        "requestedAt": record.requested_at,
        "decidedBy": record.decided_by,
        "decidedAt": record.decided_at,
        "note": record.note,
        "grant": record.grant_id,
    }
