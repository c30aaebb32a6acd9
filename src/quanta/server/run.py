"""Running the server: uvicorn on one host and port (HTTPS when a certificate is configured), JSON
access log on stderr, graceful shutdown on SIGINT/SIGTERM (requests in flight finish; uvicorn's own
handling)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quanta.errors import ConfigError
from quanta.project.platform import Platform
from quanta.server.state import ServeOptions, Tls

if TYPE_CHECKING:
    from fastapi import APIRouter

FORBIDDEN_PORTS = {5432: "5432 is PostgreSQL's port (the SQL port will use --sql-port)"}


def tls_files(cert: str | None, key: str | None) -> Tls | None:
    """The TLS certificate and key from ``--tls-cert``/``--tls-key`` (or ``QUANTA_TLS_CERT``/
    ``QUANTA_TLS_KEY``), loaded once here so a wrong file, a key that does not match or an encrypted
    key is said before the server starts; None when no certificate is configured."""
    import ssl

    if cert is None:
        if key is not None:
            raise ConfigError("a TLS key without a certificate: give --tls-cert (or QUANTA_TLS_CERT) too")
        return None
    paths = [Path(cert).expanduser(), *([Path(key).expanduser()] if key is not None else [])]
    for path in paths:
        if not path.is_file():
            raise ConfigError(f"TLS: {path} is not a file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(paths[0]), str(paths[1]) if key is not None else None, password=_no_password)
    except (ssl.SSLError, OSError, ValueError) as exc:
        what = "certificate and key" if key is not None else "certificate (and its key: give --tls-key if apart)"
        raise ConfigError(f"TLS: the {what} could not be loaded: {getattr(exc, 'reason', None) or exc}") from None
    return Tls(paths[0].resolve(), paths[1].resolve() if key is not None else None)


def _no_password() -> str:
    raise ValueError("the key is encrypted: give an unencrypted key file (readable by the server only)")


def configure_logging(level: int = logging.INFO) -> None:
    """The access log (one JSON object per line) and server messages, on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("quanta.access", "quanta.server"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


def serve(
    platform: Platform,
    options: ServeOptions,
    host: str = "127.0.0.1",
    port: int = 8765,
    on_ready: Callable[[str], None] | None = None,
    sql_port: int | None = None,
    on_sql: Callable[[str], None] | None = None,
    front_ends: Sequence[APIRouter] = (),
) -> None:
    """Serve ``platform`` until SIGINT or SIGTERM; ``sql_port``: also the SQL port on that port;
    ``front_ends``: more routes (the web catalog)."""
    import uvicorn

    from quanta.server.app import create_app

    configure_logging()
    config = uvicorn.Config(
        create_app(platform, options, front_ends=front_ends),
        host=host,
        port=port,
        access_log=False,  # ours is structured and holds no query values
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=30,
        server_header=False,
        ssl_certfile=str(options.tls.cert) if options.tls else None,
        ssl_keyfile=str(options.tls.key) if options.tls and options.tls.key else None,
    )
    server = _server_class()(config)
    if on_ready is not None:
        _announce(server, "https" if options.tls else "http", host, port, on_ready)
    sql = start_sql_port(platform, options, host, sql_port) if sql_port else None
    if sql is not None and on_sql is not None:
        on_sql(f"{sql.address[0]}:{sql.address[1]}" if sql.address else "")
    try:
        server.run()
    finally:
        if sql is not None:
            sql.stop()


def start_sql_port(platform: Platform, options: ServeOptions, host: str, port: int) -> Any:
    """The SQL port listening (TLS with the server's certificate, when it has one)."""
    import ssl

    from quanta.ports.sql.server import SqlOptions, SqlPort

    context = None
    if options.tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(options.tls.cert), str(options.tls.key) if options.tls.key else None)
    sql = SqlPort(platform, SqlOptions(host=host, port=port), context)
    try:
        sql.start()
    except OSError as exc:
        raise ConfigError(
            f"the SQL port {host}:{port} cannot listen ({exc.strerror}): pass another --sql-port"
        ) from None
    return sql


def _server_class() -> Any:
    """uvicorn's server, stopping gracefully on SIGINT/SIGTERM and then exiting normally (uvicorn
    re-raises the signal after its shutdown, which would end the process with it)."""
    import contextlib
    import signal
    import threading
    from collections.abc import Iterator

    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


def _announce(server: Any, scheme: str, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Call ``on_ready`` with the URL once uvicorn listens."""
    original = server.startup

    async def startup(sockets: Any = None) -> None:
        await original(sockets=sockets)
        if server.started:
            on_ready(f"{scheme}://{host}:{port}")

    server.startup = startup
