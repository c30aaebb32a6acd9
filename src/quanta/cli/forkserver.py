"""The warm fork server behind :mod:`quanta.cli.launch`.

It imports Quanta's libraries once, then listens on a private Unix socket. Each request carries
a client's arguments, working directory, environment, umask and resource limits, with its
stdin/stdout/stderr as passed file descriptors. The server forks a child that takes them over
and runs the CLI, then reports the child's wait status. The child is a fresh copy of the
pristine server, so no state leaks from one command to the next. When a client goes away the
server terminates its child. The server exits when idle for ``QUANTA_DAEMON_IDLE`` seconds
(default 900), or when its socket file is removed or replaced (a newer server took over). If
preloading leaves more than one thread running, forking would be unsafe: it refuses to serve
and leaves a ``.refused`` note so that clients run cold without starting servers again.

    python -m quanta.cli.forkserver SOCKET_PATH
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any

from quanta.cli.launch import HEADER

PRELOAD = (
    "quanta.cli.main",
    "quanta.project.settings",
    "quanta.project.workspace",
    "quanta.build.runner",
    "quanta.build.planner",
    "quanta.build.gc",
    "quanta.engines.duckdb",
    "quanta.read.plane",
    "quanta.catalog.search",
    "quanta.quality.run",
    "quanta.quality.document",
    "sqlalchemy.dialects.sqlite",
)
"""Modules every command would otherwise import at start-up."""
_MAX_REQUEST = 1 << 22


def preload() -> None:
    """Import the common modules and build the spec models' validators."""
    for name in PRELOAD:
        importlib.import_module(name)
    from quanta.spec.mesh import Mesh
    from quanta.spec.product import DataProduct

    for model in (Mesh, DataProduct):
        model.model_rebuild()


def native_threads() -> int:
    """Threads of this process as the kernel sees them (fork is only safe with one)."""
    return len(os.listdir("/proc/self/task"))


def serve(path: Path, idle_timeout: float) -> None:
    """Preload, listen on ``path`` and serve until idle for ``idle_timeout`` seconds."""
    preload()
    if native_threads() != 1:
        reason = f"not serving: {native_threads()} threads after preloading, forking would be unsafe"
        path.with_suffix(".refused").write_text(reason + "\n")  # clients stop starting servers for this code
        raise SystemExit(reason)
    ForkServer(path).run(idle_timeout)


class ForkServer:
    """One listening socket, the children running and the clients waiting for them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        staging = path.with_name(f".{path.name}.{os.getpid()}")
        self.listener.bind(str(staging))
        os.chmod(staging, 0o600)
        self.listener.listen(64)
        os.replace(staging, path)  # atomic: clients only ever see a listening socket
        self.inode = path.stat().st_ino
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_read, False)
        os.set_blocking(self.wake_write, False)
        signal.set_wakeup_fd(self.wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.selector.register(self.wake_read, selectors.EVENT_READ)
        self.clients: dict[int, socket.socket] = {}
        self.commands: dict[int, tuple[str, float]] = {}
        _log(f"serving {path.name} as pid {os.getpid()}")

    def run(self, idle_timeout: float) -> None:
        idle_since = time.monotonic()
        while True:
            for key, _ in self.selector.select(timeout=1.0):
                if key.fileobj is self.listener:
                    self._accept()
                elif key.fileobj == self.wake_read:
                    _drain(self.wake_read)
                else:  # the client hung up: stop its command, as closing a terminal would
                    self.selector.unregister(key.fileobj)
                    _terminate(key.data)
            self._reap()
            if self.clients:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > idle_timeout or not self._still_ours():
                break
        self.selector.close()
        self.listener.close()
        if self._still_ours():
            self.path.unlink()
        _log("stopped")

    def _accept(self) -> None:
        connection, _ = self.listener.accept()
        try:
            connection.settimeout(10)
            if not _same_user(connection):
                raise ValueError("another user")
            request, fds = _receive(connection)
        except (OSError, ValueError):
            connection.close()
            return
        try:
            child = os.fork()
        except OSError:
            for fd in fds:
                os.close(fd)
            connection.close()
            return
        if child == 0:
            self._close_in_child()
            _run_child(request, fds, connection)
        for fd in fds:
            os.close(fd)
        self.clients[child] = connection
        self.commands[child] = (next((a for a in request["argv"] if not a.startswith("-")), "?"), time.monotonic())
        try:
            connection.sendall(json.dumps({"pid": child}).encode() + b"\n")
            connection.setblocking(False)
            self.selector.register(connection, selectors.EVENT_READ, child)
        except OSError:
            _terminate(child)

    def _close_in_child(self) -> None:
        signal.set_wakeup_fd(-1)
        self.selector.close()
        self.listener.close()
        os.close(self.wake_read)
        os.close(self.wake_write)
        for connection in self.clients.values():
            connection.close()

    def _reap(self) -> None:
        """Collect finished children and tell their clients how each ended."""
        while self.clients:
            try:
                child, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if child == 0:
                return
            connection = self.clients.pop(child, None)
            if connection is None:
                continue
            command, started = self.commands.pop(child)
            _log(
                f"child {child} ran {command}: wait status {status} after {time.monotonic() - started:.2f} s, "
                f"peak RSS {usage.ru_maxrss / 1024:.0f} MiB"
            )
            if connection in (key.fileobj for key in self.selector.get_map().values()):
                self.selector.unregister(connection)
            try:
                connection.setblocking(True)
                connection.settimeout(5)
                connection.sendall(json.dumps({"status": status}).encode() + b"\n")
            except OSError:
                pass
            connection.close()

    def _still_ours(self) -> bool:
        try:
            return self.path.stat().st_ino == self.inode
        except FileNotFoundError:
            return False


def _same_user(connection: socket.socket) -> bool:
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", credentials)
    return uid == os.getuid()


def _receive(connection: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _flags, _address = socket.recv_fds(connection, 1 << 16, 3)
    if len(fds) != 3 or len(data) < HEADER.size:
        for fd in fds:
            os.close(fd)
        raise ValueError("a request carries its length and three file descriptors")
    (length,) = HEADER.unpack_from(data)
    if length > _MAX_REQUEST:
        raise ValueError("request too large")
    body = bytearray(data[HEADER.size :])
    while len(body) < length:
        chunk = connection.recv(length - len(body))
        if not chunk:
            raise ValueError("request cut short")
        body += chunk
    return json.loads(body), fds


def _run_child(request: dict[str, Any], fds: list[int], connection: socket.socket) -> None:
    """In the forked child: become the client's process and run the CLI; never returns."""
    code = 1
    try:
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        connection.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(str(request["cwd"]))
        os.umask(int(request["umask"]))
        _apply_limits(request["limits"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.path.insert(0, str(request["path0"]))
        sys.argv = ["quanta", *request["argv"]]
        _reopen_stdio()
        code = _run_cli()
    finally:
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _apply_limits(limits: dict[str, list[int]]) -> None:
    """The client's resource limits; one the server cannot grant (a hard limit above its own)
    is lowered to what it can."""
    import resource

    for name, (soft, hard) in limits.items():
        kind = getattr(resource, name, None)
        if kind is None:
            continue
        hard = _capped(hard, resource.getrlimit(kind)[1])
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(kind, (_capped(soft, hard), hard))


def _capped(value: int, cap: int) -> int:
    """The lower of two resource limits, either of which may be unlimited."""
    import resource

    if cap == resource.RLIM_INFINITY:
        return value
    return cap if value == resource.RLIM_INFINITY else min(value, cap)


def _reopen_stdio() -> None:
    """Fresh text streams over the client's descriptors (line-buffered on a terminal)."""
    encoding = sys.stdout.encoding
    sys.stdin = open(0, encoding=encoding, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding=encoding, buffering=1 if os.isatty(1) else -1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding=encoding, errors="backslashreplace", buffering=1, closefd=False)  # noqa: SIM115


def _run_cli() -> int:
    from quanta.cli.main import run

    try:
        run()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _log(message: str) -> None:
    """One line to the server's log (its stderr): never arguments or environment, which may hold secrets."""
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _terminate(child: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(child, signal.SIGTERM)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


if __name__ == "__main__":
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # never import from the folder the server was started in
    serve(Path(sys.argv[1]), float(os.environ.get("QUANTA_DAEMON_IDLE") or "900"))
