"""Running the server: uvicorn on one host and port, JSON access log on stderr, graceful shutdown
on SIGINT/SIGTERM (requests in flight finish; uvicorn's own handling)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from quanta.project.platform import Platform
from quanta.server.state import ServeOptions

FORBIDDEN_PORTS = {5432: "5432 is PostgreSQL's port (the SQL port will use --sql-port)"}


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
) -> None:
    """Serve ``platform`` until SIGINT or SIGTERM."""
    import uvicorn

    from quanta.server.app import create_app

    configure_logging()
    config = uvicorn.Config(
        create_app(platform, options),
        host=host,
        port=port,
        access_log=False,  # ours is structured and holds no query values
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=30,
        server_header=False,
    )
    server = _server_class()(config)
    if on_ready is not None:
        _announce(server, host, port, on_ready)
    server.run()


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


def _announce(server: Any, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Call ``on_ready`` with the URL once uvicorn listens."""
    original = server.startup

    async def startup(sockets: Any = None) -> None:
        await original(sockets=sockets)
        if server.started:
            on_ready(f"http://{host}:{port}")

    server.startup = startup
