"""The ``quanta`` entry point: hand the command to a warm fork server, or run it here.

Importing Quanta's libraries (SQLAlchemy, pydantic models, DuckDB, Rich) costs about half a
second per command. Like Gradle's daemon, a long-lived server (:mod:`quanta.cli.forkserver`)
imports them once; for each command it forks a fresh child that receives this process's
stdin/stdout/stderr, working directory, environment and arguments, so every command still
runs in a clean process of its own. This module imports only the standard library.

The server is used for the non-interactive mesh commands when ``QUANTA_DAEMON`` is not
``0`` (and not under ``CI`` unless ``QUANTA_DAEMON=1``) on Linux. When no server answers,
the command runs here as usual and a server is started in the background for the next one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import struct
import sys
from collections.abc import Mapping
from pathlib import Path

ROUTED = frozenset(
    {"validate", "plan", "build", "gc", "status", "show", "search", "query", "test", "slo", "report", "export"}
)
"""Commands served by the fork server: non-interactive, and the ones whose start-up matters."""
_OFF = {"0", "false", "no", "off"}
_ON = {"1", "true", "yes", "on"}
_SERVER_ENV = {"PATH", "HOME", "LANG", "TMPDIR", "VIRTUAL_ENV", "QUANTA_DAEMON_IDLE"}
"""What the server itself keeps of its first client's environment: no credentials. Each command
gets its own client's full environment."""
HEADER = struct.Struct("!I")
"""The length prefix of a request, shared with :mod:`quanta.cli.forkserver`."""


def main() -> None:
    """Console-script entry point."""
    argv = sys.argv[1:]
    problems = environment_problems(os.environ)
    if problems:
        sys.stderr.write("".join(f"error: {problem}\n" for problem in problems))
        sys.exit(2)
    if enabled(os.environ) and routed(argv) and _plain_interpreter():
        status = _via_server(argv)
        if status is not None:
            _exit_like(status)
    from quanta.cli.main import run

    run()


def environment_problems(environ: Mapping[str, str]) -> list[str]:
    """What is wrong with the variables the launcher reads, each naming its variable (an empty
    one counts as unset)."""
    problems = []
    switch = environ.get("QUANTA_DAEMON", "").strip().lower()
    if switch and switch not in _OFF | _ON:
        problems.append("QUANTA_DAEMON must be 0 or 1 (or off/on, false/true, no/yes)")
    idle = environ.get("QUANTA_DAEMON_IDLE")
    if idle and not _positive_seconds(idle):
        problems.append("QUANTA_DAEMON_IDLE must be a number of seconds greater than 0")
    folder = environ.get("QUANTA_RUNTIME_DIR")
    if folder and not os.path.isabs(folder):
        problems.append("QUANTA_RUNTIME_DIR must be an absolute folder path")
    return problems


def _positive_seconds(text: str) -> bool:
    try:
        seconds = float(text)
    except ValueError:
        return False
    return 0 < seconds < float("inf")


def enabled(environ: Mapping[str, str]) -> bool:
    """Whether to use the fork server in this environment."""
    setting = environ.get("QUANTA_DAEMON", "").strip().lower()
    if setting in _OFF or not (hasattr(os, "fork") and hasattr(socket, "send_fds")) or sys.platform != "linux":
        return False
    return setting in _ON or not environ.get("CI")


def _plain_interpreter() -> bool:
    """No interpreter options (warnings, -X, -O, dev mode) that a server child would not share."""
    return not (sys.warnoptions or sys._xoptions or sys.flags.optimize or sys.flags.dev_mode)


def routed(argv: list[str]) -> bool:
    """Whether the command line names a command the server runs."""
    words = [a for a in argv if not a.startswith("-")]
    return bool(words) and words[0] in ROUTED and "--help" not in argv


def runtime_dir(environ: Mapping[str, str]) -> Path:
    """A private folder for the server sockets (created 0700; refused if others can enter it)."""
    base = environ.get("QUANTA_RUNTIME_DIR") or environ.get("XDG_RUNTIME_DIR")
    folder = Path(base) / "quanta" if base else Path(f"/tmp/quanta-{os.getuid()}")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(f"{folder} must belong to you with mode 0700")
    return folder


def fingerprint(package: Path, path: list[str], executable: str) -> str:
    """Identifies the code a server would run: the interpreter, the import path, every file of
    the Quanta package (path, size, mtime) and the mtime of each import-path folder, which
    changes when a dependency is installed or upgraded."""
    digest = hashlib.sha256(f"{executable}\0{path}".encode())
    for folder, subfolders, files in os.walk(package):
        subfolders.sort()
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            info = os.stat(os.path.join(folder, name))
            digest.update(f"{folder}/{name}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    for entry in path:
        try:
            digest.update(f"{entry}\0{os.stat(entry).st_mtime_ns}\n".encode())
        except OSError:
            continue
    return digest.hexdigest()[:20]


def socket_path(environ: Mapping[str, str]) -> Path:
    import quanta

    code = fingerprint(Path(quanta.__file__).parent, sys.path[1:], sys.executable)
    return runtime_dir(environ) / f"{code}.sock"


def _via_server(argv: list[str]) -> int | None:
    """Run the command in a server child; its wait status, or None to run it here."""
    try:
        path = socket_path(os.environ)
        for fd in (0, 1, 2):  # a closed stream would be taken by the socket below and handed over
            os.fstat(fd)
    except OSError:
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(path))
    except OSError:
        connection.close()
        if not path.with_suffix(".refused").exists():
            _start_server(path)
        return None
    with connection:
        try:
            request = {
                "argv": argv,
                "cwd": os.getcwd(),
                "env": dict(os.environ),
                "path0": sys.path[0],
                "umask": _umask(),
                "limits": _limits(),
            }
            payload = json.dumps(request).encode()
            socket.send_fds(connection, [HEADER.pack(len(payload)) + payload], [0, 1, 2])
        except OSError:  # e.g. a deleted working directory: nothing was sent
            return None
        replies = connection.makefile("r", encoding="utf-8")
        try:
            started = replies.readline()
            if not started:
                return None  # refused before forking: nothing ran, so run it here
            _forward_signals(int(json.loads(started)["pid"]))
            finished = replies.readline()
        except (OSError, ValueError, KeyError):
            finished = ""
    if not finished:
        sys.stderr.write("error: the quanta server stopped while running the command; set QUANTA_DAEMON=0 to bypass\n")
        return 2 << 8
    return int(json.loads(finished)["status"])


def _forward_signals(child: int) -> None:
    """Pass signals on to the child; Ctrl-Z stops it with this process and ``fg`` resumes both."""

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signum)

    def suspend(_signum: int, _frame: object) -> None:
        forward(signal.SIGSTOP, None)  # the child's process group is orphaned: SIGTSTP would be discarded
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)  # stops here until SIGCONT
        signal.signal(signal.SIGTSTP, suspend)
        forward(signal.SIGCONT, None)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGWINCH):
        signal.signal(signum, forward)
    signal.signal(signal.SIGTSTP, suspend)


def _exit_like(status: int) -> None:
    """Leave as the child did: with its exit code, or killed by the same signal."""
    sys.stdout.flush()
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):  # SIGKILL and SIGSTOP cannot be caught anyway
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        sys.exit(128 + signum)
    sys.exit(os.waitstatus_to_exitcode(status))


LIMITS = ("RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CPU", "RLIMIT_CORE")
"""Resource limits (``ulimit``) the child takes over from the client."""


def _limits() -> dict[str, tuple[int, int]]:
    import resource

    return {name: resource.getrlimit(getattr(resource, name)) for name in LIMITS if hasattr(resource, name)}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _start_server(path: Path) -> None:
    """Start a server for ``path`` in the background, detached from this terminal."""
    import subprocess

    log = path.with_suffix(".log")
    environment = {k: v for k, v in os.environ.items() if k in _SERVER_ENV or k.startswith(("LC_", "PYTHON"))}
    with open(log, "ab") as errors:
        subprocess.Popen(
            [sys.executable, "-m", "quanta.cli.forkserver", str(path)],
            cwd="/",
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            start_new_session=True,
            close_fds=True,
        )
