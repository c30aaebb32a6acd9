"""``quanta serve``: the platform's HTTP ports in one process (needs ``quanta[serve]``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from quanta.cli.common import CATALOG_OPTION, PROFILE_OPTION, STORAGE_OPTION
from quanta.errors import QuantaError

if TYPE_CHECKING:
    from quanta.read.plane import EngineLimits

SERVE_MEMORY_LIMIT = "128MB"
"""The read engine's memory when neither ``--memory-limit`` nor the platform's ``memoryLimit`` says."""


def serve(
    path: Path = typer.Argument(Path("."), help="Mesh folder (else the catalog and storage settings alone)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8765, "--port", help="HTTP port."),
    cache_dir: Path | None = typer.Option(
        None, "--cache-dir", help="Folder for download renditions (default .quanta/serve-cache)."
    ),
    tls_cert: str | None = typer.Option(
        None, "--tls-cert", help="PEM certificate (chain) to serve HTTPS with (else QUANTA_TLS_CERT)."
    ),
    tls_key: str | None = typer.Option(
        None, "--tls-key", help="PEM private key of the certificate (else QUANTA_TLS_KEY)."
    ),
    memory_limit: str | None = typer.Option(
        None,
        "--memory-limit",
        help=f"Memory the read engine may use, e.g. 512MB (else the platform's memoryLimit, else {SERVE_MEMORY_LIMIT});"
        " sorts beyond it spill to the cache folder.",
    ),
    sql_port: int = typer.Option(
        15432, "--sql-port", help="PostgreSQL wire-protocol port (0: no SQL port; never 5432)."
    ),
    sli_interval: float = typer.Option(
        60.0, "--sli-interval", min=0, help="Seconds between stores of the port SLIs (0: only at shutdown)."
    ),
    report_interval: float = typer.Option(
        15.0,
        "--report-interval",
        min=0,
        help="Seconds between passes rendering due scheduled reports (0: this server renders none).",
    ),
    profile: str | None = PROFILE_OPTION,
    catalog: str | None = CATALOG_OPTION,
    storage: str | None = STORAGE_OPTION,
) -> None:
    """Serve every published product over HTTP (REST, files, the catalog API) and the PostgreSQL wire
    protocol until Ctrl-C or SIGTERM."""
    from quanta.server import require_serve_extra

    require_serve_extra()
    from quanta.server.run import FORBIDDEN_PORTS

    if port in FORBIDDEN_PORTS:
        raise QuantaError(f"--port {port}: {FORBIDDEN_PORTS[port]}")
    if not 0 < port < 65536:
        raise QuantaError(f"--port {port}: use a port between 1 and 65535")
    if sql_port in FORBIDDEN_PORTS or not 0 <= sql_port < 65536 or (sql_port == port and port):
        raise QuantaError(f"--sql-port {sql_port}: use a free port other than 5432 and --port (0: none)")
    from quanta.project.platform import Platform
    from quanta.project.scope import scope_settings
    from quanta.project.settings import environment_settings
    from quanta.server.run import serve as run
    from quanta.server.run import tls_files
    from quanta.server.state import ServeOptions
    from quanta.web import router as web_catalog

    environment = environment_settings()
    settings, root = scope_settings(path, profile, catalog, storage)
    if not settings.storage:
        raise QuantaError("serving reads needs snapshot storage: pass --storage or set QUANTA_STORAGE")
    secret = environment.server_secret.get_secret_value().encode() if environment.server_secret else None
    tls = tls_files(tls_cert or environment.tls_cert, tls_key or environment.tls_key)
    sql_address = f"{host}:{sql_port}" if sql_port else None
    client_secret = environment.oidc_client_secret
    options = ServeOptions(
        (cache_dir or root / ".quanta" / "serve-cache").resolve(),
        secret,
        tls,
        sli_interval,
        sql_address,
        report_interval,
        oidc_client_secret=client_secret.get_secret_value() if client_secret else None,
    )
    memory = memory_limit or settings.memory_limit or SERVE_MEMORY_LIMIT
    limits = engine_limits(memory, settings.threads, options.cache_dir)
    platform = Platform.open(settings, root, environment.run_lease)
    platform.plane.limit_engine(limits)
    try:
        if secret is None:
            typer.echo(
                "note: QUANTA_SERVER_SECRET is not set: cursors and web sessions are signed with a key of this"
                " process only",
                err=True,
            )
        run(
            platform,
            options,
            host,
            port,
            on_ready=lambda url: typer.echo(f"serving the catalog on {url}/ (API: {url}/api/v1/health)", err=True),
            sql_port=sql_port or None,
            on_sql=lambda address: typer.echo(f"SQL port on postgresql://{address}/quanta", err=True),
            front_ends=(web_catalog,),
        )
    finally:
        platform.close()


def engine_limits(memory_limit: str, threads: int | None, cache_dir: Path) -> EngineLimits:
    """The read engine's limits for serving: memory (checked like the platform's setting), the
    platform's threads, and a spill folder in the cache for sorts beyond the memory."""
    from pydantic import TypeAdapter, ValidationError

    from quanta.read.plane import EngineLimits
    from quanta.spec.mesh import MemoryLimit

    try:
        TypeAdapter(MemoryLimit).validate_python(memory_limit)
    except ValidationError:
        raise QuantaError(f"--memory-limit {memory_limit}: give a size such as 256MB or 2GB") from None
    spill = cache_dir / "spill"
    spill.mkdir(parents=True, exist_ok=True, mode=0o700)
    return EngineLimits(threads, memory_limit, spill)
