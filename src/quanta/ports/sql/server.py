"""The SQL port's listener: an asyncio server on its own thread inside ``quanta serve``, one
:class:`~quanta.ports.sql.session.Session` per connection, blocking reads on a thread pool."""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from quanta.ports.sql.protocol import MAX_MESSAGE

if TYPE_CHECKING:
    from quanta.access import Principal
    from quanta.access.credentials import FailureLimiter
    from quanta.ports.sql.session import Session

log = logging.getLogger("quanta.sql")
DEFAULT_PORT = 15432


@dataclass(frozen=True)
class SqlOptions:
    """How the SQL port runs."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    require_tls: bool = False
    """Refuse connections that do not ask for TLS."""
    workers: int = 8
    """Threads running statements."""
    startup_timeout_s: float = 30.0
    idle_timeout_s: float = 0.0
    """Close a connection idle this long between statements (0: never)."""
    statement_timeout_s: float = 0.0
    """Answer 57014 for a statement running longer (0: no limit; a session's statement_timeout wins)."""
    max_message: int = MAX_MESSAGE


class Platform(Protocol):
    """What the SQL port needs of a :class:`quanta.project.platform.Platform`."""

    plane: Any
    catalog: Any
    limiter: FailureLimiter

    def authenticate(self, credential: str, source: str = "local") -> Principal: ...

    def principal(self, name: str) -> Principal: ...


class SqlPort:
    """The listener and what its sessions share: the platform, TLS, the worker pool."""

    def __init__(self, platform: Platform, options: SqlOptions, tls: ssl.SSLContext | None = None) -> None:
        self.platform = platform
        self.options = options
        self.tls = tls
        self.executor = ThreadPoolExecutor(options.workers, thread_name_prefix="quanta-sql")
        self._sessions: dict[tuple[int, int], Session] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self.address: tuple[str, int] | None = None
        from quanta.ports.sql.catalog import CatalogDatabases

        self._catalogs = CatalogDatabases()

    def catalog_database(self, principal: Principal, database: str) -> Any:
        """The metadata-only database of the products ``principal`` may read over SQL."""
        from quanta.read.plane import port_of_type

        plane = self.platform.plane
        visible = []
        for spec in plane.published():
            if not any(p.type == "sql" for p in spec.outputs):
                continue
            if principal.owner:
                visible.append(spec)
                continue
            decision = plane.decide(principal, spec, port_of_type(spec, "sql"), None)
            if decision.allowed:
                visible.append(spec)
        identity = (principal.id, principal.roles, principal.owner, database, plane.generation)
        key = (*identity, tuple((s.key, id(s)) for s in visible))
        return self._catalogs.database(key, principal.id, database, visible)

    def register(self, session: Session) -> None:
        with self._lock:
            self._sessions[(session.process_id, session.secret)] = session

    def unregister(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop((session.process_id, session.secret), None)

    def cancel(self, process_id: int, secret: int) -> None:
        """A CancelRequest: interrupt the statement the session with this key runs (an unknown key,
        like PostgreSQL, does nothing and says nothing)."""
        with self._lock:
            session = self._sessions.get((process_id, secret))
        if session is not None:
            session.cancel()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from quanta.ports.sql.session import Session

        await Session(self, reader, writer).run()

    def start(self) -> tuple[str, int]:
        """Listen on a thread of its own; returns the address once listening."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, self.options.host, self.options.port, limit=2**20)
                )
                sockname = self._server.sockets[0].getsockname()
                self.address = (str(sockname[0]), int(sockname[1]))
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="quanta-sql-port", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        assert self.address is not None
        return self.address

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            current = asyncio.current_task()
            sessions = [task for task in asyncio.all_tasks() if task is not current]
            for task in sessions:
                task.cancel()
            await asyncio.gather(*sessions, return_exceptions=True)
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.executor.shutdown(wait=False, cancel_futures=True)
        self._catalogs.close()
