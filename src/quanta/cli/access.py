"""``quanta access``: principals, API tokens, SQL passwords and ``explain``, thin over the platform.

Whoever holds the catalog (the local CLI user, the platform owner) administers it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table
from rich.text import Text

from quanta.cli.common import (
    CATALOG_OPTION,
    MESH_OPTION,
    PROFILE_OPTION,
    OutputFormat,
    console,
    literal,
    print_json,
    scope,
)
from quanta.errors import QuantaError

if TYPE_CHECKING:
    from quanta.catalog import GrantRecord, PrincipalRecord, TokenRecord
    from quanta.project.platform import Platform

app = typer.Typer(help="Principals, API tokens, SQL passwords and access decisions.", no_args_is_help=True)
principal_app = typer.Typer(help="Users and service accounts.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (shown once, stored only as a hash).", no_args_is_help=True)
app.add_typer(principal_app, name="principal")
app.add_typer(token_app, name="token")

FORMAT_OPTION = typer.Option(OutputFormat.table, "--format", "-f", help="table or json.")


@contextmanager
def open_platform(mesh_path: Path, profile: str | None, catalog: str | None) -> Iterator[Platform]:
    from quanta.project.scope import platform_of

    products = scope(mesh_path, profile, catalog, None)
    try:
        yield platform_of(products)
    finally:
        products.close()


def parse_duration_option(text: str, option: str) -> timedelta:
    """``30d``, ``8h``, ``90m``, ``2w`` as a duration; a clear error naming ``option`` otherwise."""
    from quanta.spec.base import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise QuantaError(f"{option}: {exc}") from None


def _attributes(pairs: list[str], option: str = "--attr", example: str = "country=FR") -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise QuantaError(f"{option} '{pair}': write name=value, e.g. {example}")
        found[name.strip()] = value
    return found


def _principal_data(record: PrincipalRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "kind": record.kind,
        "displayName": record.display_name,
        "roles": list(record.roles),
        "team": record.team,
        "attributes": record.attributes,
        "admin": record.admin,
        "createdAt": record.created_at,
    }


def _token_data(record: TokenRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "principal": record.principal_id,
        "createdAt": record.created_at,
        "expiresAt": record.expires_at,
        "revokedAt": record.revoked_at,
        "lastUsedAt": record.last_used_at,
    }


def _when(value: Any) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------- principals


@principal_app.command("add")
def principal_add(
    name: str = typer.Argument(..., help="Principal id, e.g. ann or svc:recommender."),
    service: bool = typer.Option(False, "--service", help="A service account (default: a user)."),
    display_name: str | None = typer.Option(None, "--display-name", help="A human-readable name."),
    roles: list[str] = typer.Option([], "--role", help="A role from the mesh's roles: (repeatable)."),
    team: str | None = typer.Option(None, "--team", help="The team it belongs to."),
    attrs: list[str] = typer.Option([], "--attr", help="An attribute row filters bind, name=value (repeatable)."),
    admin: bool = typer.Option(False, "--admin", help="A platform admin (the platform owner's rights)."),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Register a user or service account."""
    from quanta.catalog import PrincipalRecord

    record = PrincipalRecord(
        name, "service" if service else "user", display_name, tuple(roles), team, _attributes(attrs), admin
    )
    with open_platform(mesh_path, profile, catalog) as platform:
        platform.add_principal(record)
    console().print(literal(f"added {record.kind} {name}" + (" (platform admin)" if admin else "")))


@principal_app.command("list")
def principal_list(
    output: OutputFormat = FORMAT_OPTION,
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Every principal."""
    with open_platform(mesh_path, profile, catalog) as platform:
        records = platform.catalog.access.all()
    if output is OutputFormat.json:
        print_json([_principal_data(r) for r in records])
        return
    table = Table(title=Text(f"{len(records)} principal(s)"))
    for column in ("id", "kind", "roles", "team", "attributes", "admin"):
        table.add_column(column)
    for r in records:
        attributes = ", ".join(f"{k}={v}" for k, v in sorted(r.attributes.items()))
        table.add_row(
            literal(r.id),
            r.kind,
            literal(", ".join(r.roles)),
            literal(r.team or ""),
            literal(attributes),
            "yes" if r.admin else "",
        )
    console().print(table)


@principal_app.command("show")
def principal_show(
    name: str = typer.Argument(..., help="Principal id."),
    output: OutputFormat = FORMAT_OPTION,
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """One principal with its tokens and whether it has a SQL password."""
    with open_platform(mesh_path, profile, catalog) as platform:
        record = platform.catalog.access.require(name)
        tokens = platform.catalog.access.tokens(name)
        has_password = platform.catalog.access.verifier(name) is not None
    data = {**_principal_data(record), "password": has_password, "tokens": [_token_data(t) for t in tokens]}
    if output is OutputFormat.json:
        print_json(data)
        return
    out = console()
    out.print(literal(f"{record.id} ({record.kind}{', platform admin' if record.admin else ''})"))
    for label, value in (
        ("display name", record.display_name or "—"),
        ("roles", ", ".join(record.roles) or "—"),
        ("team", record.team or "—"),
        ("attributes", ", ".join(f"{k}={v}" for k, v in sorted(record.attributes.items())) or "—"),
        ("SQL password", "set" if has_password else "none"),
        ("created", _when(record.created_at)),
    ):
        out.print(literal(f"  {label}: {value}"))
    active = [t for t in tokens if t.revoked_at is None]
    out.print(literal(f"  tokens: {len(active)} active, {len(tokens) - len(active)} revoked"))


@principal_app.command("remove")
def principal_remove(
    name: str = typer.Argument(..., help="Principal id."),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Forget a principal, its tokens and its SQL password."""
    from quanta.errors import NotFound

    with open_platform(mesh_path, profile, catalog) as platform:
        if not platform.catalog.access.remove(name):
            raise NotFound(f"the catalog has no principal '{name}'")
    console().print(literal(f"removed {name} (its tokens and SQL password with it)"))


# ---------------------------------------------------------------- tokens


@token_app.command("create")
def token_create(
    principal: str = typer.Argument(..., help="The principal the token stands for."),
    days: float = typer.Option(90, "--days", help="Expire after this many days."),
    no_expiry: bool = typer.Option(False, "--no-expiry", help="Never expire (revoke it when done)."),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Create an API token: printed once on stdout, never stored (only its hash)."""
    from quanta.cli.render import error_console

    with open_platform(mesh_path, profile, catalog) as platform:
        token, record = platform.create_token(principal, None if no_expiry else days)
    expiry = "never expires" if record.expires_at is None else f"expires {_when(record.expires_at)} UTC"
    error_console().print(
        literal(f"token {record.id} for {principal}, {expiry}; shown once: store it now"), highlight=False
    )
    typer.echo(token)


@token_app.command("list")
def token_list(
    principal: str | None = typer.Argument(None, help="Only this principal's tokens."),
    output: OutputFormat = FORMAT_OPTION,
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """API tokens (ids and dates; a token itself is never kept)."""
    with open_platform(mesh_path, profile, catalog) as platform:
        tokens = platform.catalog.access.tokens(principal)
    if output is OutputFormat.json:
        print_json([_token_data(t) for t in tokens])
        return
    table = Table(title=Text(f"{len(tokens)} token(s)"))
    for column in ("id", "principal", "created", "expires", "last used", "revoked"):
        table.add_column(column)
    for t in tokens:
        table.add_row(
            t.id,
            literal(t.principal_id),
            _when(t.created_at),
            _when(t.expires_at) if t.expires_at else "never",
            _when(t.last_used_at),
            _when(t.revoked_at),
        )
    console().print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: str = typer.Argument(..., help="Token id (from `token list`)."),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Revoke an API token."""
    with open_platform(mesh_path, profile, catalog) as platform:
        platform.revoke_token(token_id)
    console().print(literal(f"revoked token {token_id}"))


# ---------------------------------------------------------------- catalog grants


@app.command("grant")
def grant(
    product: str = typer.Argument(..., help="Product, e.g. sales.orders (its highest major) or sales.orders@v1."),
    ports: list[str] = typer.Option(..., "--port", help="An output port id the grant opens (repeatable)."),
    role: str | None = typer.Option(None, "--role", help="A role from the mesh's roles:."),
    principal: str | None = typer.Option(None, "--principal", help="One principal instead of a role."),
    row_filter: str | None = typer.Option(None, "--row-filter", help='e.g. "country = :principal.country".'),
    unmask: list[str] = typer.Option([], "--unmask", help="A classified property shown in clear (repeatable)."),
    masks: list[str] = typer.Option([], "--mask", help="property=kind overriding the mesh's mask (repeatable)."),
    purpose: str | None = typer.Option(None, "--purpose", help="Why (required with --unmask)."),
    expires: str | None = typer.Option(None, "--expires", help="Last valid day, YYYY-MM-DD."),
    duration: str | None = typer.Option(None, "--for", help="Valid for this long from now, e.g. 8h or 30d."),
    every_major: bool = typer.Option(False, "--every-major", help="Apply to every major version."),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Give access in the catalog (next to the spec's grants); effective on every port at once."""
    from pydantic import ValidationError

    from quanta.spec.policy import Grant

    data: dict[str, Any] = {"ports": ports, "unmask": unmask, "masks": _attributes(masks, "--mask", "email=hash")}
    optional = {"role": role, "principal": principal, "rowFilter": row_filter, "purpose": purpose, "expires": expires}
    try:
        given = Grant.model_validate(data | {k: v for k, v in optional.items() if v is not None})
    except ValidationError as exc:
        raise QuantaError("; ".join(_grant_error(e) for e in exc.errors())) from None
    lasting = parse_duration_option(duration, "--for") if duration is not None else None
    with open_platform(mesh_path, profile, catalog) as platform:
        record = platform.grant(product, given, every_major=every_major, duration=lasting)
    console().print(literal(f"grant {record.id}: {_grantee(record)} may read {_ports_of(record)}"))


def _grant_error(error: Any) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _grantee(record: GrantRecord) -> str:
    return f"role {record.role}" if record.role else f"principal {record.principal_id}"


def _ports_of(record: GrantRecord) -> str:
    major = "every major" if record.major is None else f"v{record.major}"
    return f"{record.product} ({major}) through {', '.join(record.ports)}"


@app.command("revoke")
def revoke(
    grant_id: int = typer.Argument(..., help="Grant id (from `quanta access grants`)."),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Revoke a catalog grant: every process stops honouring it on its next statement."""
    with open_platform(mesh_path, profile, catalog) as platform:
        platform.revoke_grant(grant_id)
    console().print(literal(f"revoked grant {grant_id}"))


@app.command("grants")
def grants(
    product: str | None = typer.Argument(None, help="Only this product (domain.name)."),
    every: bool = typer.Option(False, "--all", help="Revoked and expired ones too."),
    expiring: str | None = typer.Option(None, "--expiring", help="Only those expiring within this long, e.g. 7d."),
    output: OutputFormat = FORMAT_OPTION,
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Grants kept in the catalog (the spec's own are in each product's `access:`)."""
    with open_platform(mesh_path, profile, catalog) as platform:
        now = platform.catalog.access.now()
        if expiring is not None:
            records = platform.catalog.grants.expiring(parse_duration_option(expiring, "--expiring"))
        else:
            records = platform.catalog.grants.all() if every else platform.catalog.grants.active(now)
    if product is not None:
        records = [r for r in records if r.product == product.partition("@")[0]]
    if output is OutputFormat.json:
        print_json([_grant_data(r) for r in records])
        return
    table = Table(title=Text(f"{len(records)} catalog grant(s)"))
    for column in ("id", "product", "grantee", "ports", "row filter", "unmask", "expires", "by", "revoked"):
        table.add_column(column)
    for r in records:
        table.add_row(
            str(r.id),
            r.product + ("" if r.major is None else f"@v{r.major}"),
            _grantee(r),
            ", ".join(r.ports),
            r.row_filter or "—",
            ", ".join(r.unmask) or "—",
            _when(r.expires_at) if r.expires_at else "never",
            r.granted_by,
            _when(r.revoked_at),
        )
    console().print(table)


def _grant_data(record: GrantRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "product": record.product,
        "major": record.major,
        "role": record.role,
        "principal": record.principal_id,
        "ports": list(record.ports),
        "rowFilter": record.row_filter,
        "unmask": list(record.unmask),
        "masks": record.masks,
        "purpose": record.purpose,
        "expiresAt": record.expires_at,
        "source": record.source,
        "request": record.request_id,
        "grantedBy": record.granted_by,
        "grantedAt": record.granted_at,
        "revokedAt": record.revoked_at,
    }


# ---------------------------------------------------------------- passwords and decisions


@app.command("password")
def password(
    name: str = typer.Argument(..., help="Principal id."),
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Set a principal's SQL password, read from stdin (its first line); only a SCRAM-SHA-256
    verifier is stored."""
    import sys

    line = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not line:
        raise QuantaError("no password on stdin: pipe it in, e.g. `quanta access password ann < secret.txt`")
    with open_platform(mesh_path, profile, catalog) as platform:
        platform.set_password(name, line)
    console().print(literal(f"SQL password of {name} set (SCRAM-SHA-256 verifier stored, not the password)"))


@app.command("explain")
def explain(
    principal: str = typer.Argument(..., help="Principal id."),
    product: str = typer.Argument(..., help="Product, e.g. sales.orders or sales.orders@v1."),
    port: str | None = typer.Option(None, "--port", help="Output port (default: its SQL port)."),
    output: OutputFormat = FORMAT_OPTION,
    mesh_path: Path = MESH_OPTION,
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
) -> None:
    """Whether a principal may read a product and why: the grant, the masks, the row filter."""
    with open_platform(mesh_path, profile, catalog) as platform:
        found = platform.explain(principal, product, port)
    data = found.to_data()
    if output is OutputFormat.json:
        print_json(data)
        return
    out = console()
    verdict = Text("allowed" if data["allowed"] else "denied", style="bold green" if data["allowed"] else "bold red")
    out.print(Text.assemble(verdict, f": {principal} → {data['product']}", f" port {data['port'] or 'any'}"))
    out.print(literal(f"  why: {data['reason']}"))
    if data["source"]:
        out.print(literal(f"  source: {data['source']}"))
    if not data["allowed"]:
        return
    grant = data["grant"]
    if grant is not None:
        details = f"{'role ' + grant['role'] if grant['role'] else 'principal ' + grant['principal']}"
        details += f", ports {', '.join(grant['ports'])}"
        details += f", purpose: {grant['purpose']}" if grant["purpose"] else ""
        details += f", expires {grant['expires']}" if grant["expires"] else ""
        out.print(literal(f"  grant: {details}"))
    masked = ", ".join(f"{name} by {mask}" for name, mask in data["masked"].items())
    out.print(literal(f"  masked: {masked or 'nothing'}"))
    if data["unmasked"]:
        out.print(literal(f"  unmasked by the grant: {', '.join(data['unmasked'])}"))
    row_filter = data["rowFilter"]
    if row_filter is None:
        shown = "none (every row)"
    elif row_filter["missing"]:
        shown = f"{row_filter['text']}  →  no rows (lacks {', '.join(row_filter['missing'])})"
    else:
        shown = f"{row_filter['text']}  →  {row_filter['bound']}"
    out.print(literal(f"  row filter: {shown}"))
