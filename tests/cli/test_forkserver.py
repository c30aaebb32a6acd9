"""The warm fork server: commands run in a forked child that takes over the client's streams,
working directory and environment, and end exactly as they would in a process of their own."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from processes import alive, children, cpu_seconds, state
from quanta.cli.launch import enabled, fingerprint, routed, runtime_dir

SLOW_QUERY = "select count(*) from sales.orders a" + "".join(f", sales.orders t{i}" for i in range(15))
"""5^16 rows of a cross join: tens of seconds, far longer than the tests wait."""


class Server:
    """Runs ``python -m quanta`` with the fork server on, in a private runtime folder."""

    def __init__(self, tmp_path: Path, idle: str = "120") -> None:
        self.cwd = tmp_path
        self.folder = tmp_path / "run"
        self.env = {
            **os.environ,
            "QUANTA_DAEMON": "1",
            "QUANTA_RUNTIME_DIR": str(self.folder),
            "QUANTA_DAEMON_IDLE": idle,
            "COLUMNS": "200",
        }

    def quanta(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "quanta", *args],
            cwd=self.cwd,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def mesh(self, built: bool = False) -> None:
        """A `quanta init` mesh named shop, validated (which starts the server), optionally built."""
        self.quanta("init", "shop")
        self.quanta("validate", "shop")
        self.socket()
        if built:
            assert self.quanta("build", "shop").returncode == 0

    def slow_query(self) -> tuple[subprocess.Popen[str], list[int]]:
        """A client running SLOW_QUERY through the server, and the server's children once it runs."""
        client = subprocess.Popen(
            [sys.executable, "-m", "quanta", "query", SLOW_QUERY, "-m", "shop"],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        return client, wait_for(lambda: children(self.pid()), "the command to start")

    def socket(self) -> Path:
        return wait_for(lambda: next((self.folder / "quanta").glob("*.sock"), None), "a server socket")

    def log(self) -> str:
        return "".join(p.read_text() for p in (self.folder / "quanta").glob("*.log"))

    def served(self) -> list[str]:
        return re.findall(r"ran (\w+): wait status (\d+)", self.log())

    def pid(self) -> int:
        self.socket()
        return int(wait_for(lambda: re.search(r"as pid (\d+)", self.log()), "the server's pid").group(1))

    def stop(self) -> None:
        for path in (self.folder / "quanta").glob("*.sock"):
            path.unlink()


def wait_for(probe, what: str, seconds: float = 60):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_commands_run_in_the_server_with_the_clients_streams_folder_and_environment(server: Server) -> None:
    assert server.quanta("init", "shop").returncode == 0  # not a routed command: runs cold
    first = server.quanta("validate", "shop")  # no server yet: runs here and starts one
    assert first.returncode == 0, first.stderr
    server.socket()
    assert server.served() == []

    built = server.quanta("build", "shop")
    assert built.returncode == 0, built.stdout + built.stderr
    assert built.stdout.count("built") == 2
    rows = server.quanta("query", "select count(*) as n from sales.orders", "-m", "shop", "-f", "csv")
    assert rows.stdout.splitlines() == ["n", "5"]
    other = server.cwd / "elsewhere.db"
    elsewhere = server.quanta("status", "shop", QUANTA_CATALOG=f"sqlite:///{other}")
    assert elsewhere.returncode == 0 and "built" not in elsewhere.stdout  # the client's environment counts
    assert other.exists()
    refused = server.quanta("query", "drop table sales.orders", "-m", "shop")
    assert refused.returncode == 1 and "only a read-only query" in refused.stderr
    assert [command for command, _ in server.served()] == ["build", "query", "status", "query"]
    assert [int(status) for _, status in server.served()] == [0, 0, 0, 1 << 8]


def test_a_child_killed_by_a_signal_kills_the_client_with_it(server: Server) -> None:
    server.mesh()
    killed = server.quanta("build", "shop", QUANTA_FAULT="after-parquet")
    assert killed.returncode == -signal.SIGKILL
    assert server.served() == [("build", str(signal.SIGKILL))]
    again = server.quanta("build", "shop")  # the server survives its child
    assert again.returncode == 0 and again.stdout.count("built") == 2


def test_the_server_stops_when_its_socket_is_removed_or_when_idle(tmp_path: Path) -> None:
    removed = Server(tmp_path / "a")
    (tmp_path / "a").mkdir()
    removed.quanta("validate", "nowhere")
    pid = removed.pid()
    assert alive(pid)
    removed.stop()
    wait_for(lambda: not alive(pid), "the server to stop", seconds=10)

    idle = Server(tmp_path / "b", idle="1")
    (tmp_path / "b").mkdir()
    idle.quanta("validate", "nowhere")
    socket, pid = idle.socket(), idle.pid()
    wait_for(lambda: not alive(pid), "the idle server to stop", seconds=15)
    assert not socket.exists() and "stopped" in idle.log()


def test_a_client_that_goes_away_takes_its_command_with_it(server: Server) -> None:
    server.mesh(built=True)
    client, children = server.slow_query()
    client.kill()
    client.wait()
    wait_for(lambda: not any(alive(c) for c in children), "the orphaned command to stop", seconds=10)
    wait_for(lambda: len(server.served()) == 2, "the server to reap it")
    assert server.served()[1:] == [("query", str(signal.SIGTERM))]


def test_preloading_starts_no_thread_so_forking_is_safe() -> None:
    probe = "from quanta.cli.forkserver import preload, native_threads; preload(); print(native_threads())"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "1", result.stderr


def test_only_non_interactive_mesh_commands_are_routed_and_ci_runs_cold() -> None:
    assert routed(["build", "shop"]) and routed(["--debug", "query", "select 1"])
    assert not routed(["design", "slo", "x"]) and not routed(["init", "x"]) and not routed([])
    assert not routed(["build", "--help"])
    assert enabled({}) and enabled({"CI": "true", "QUANTA_DAEMON": "1"})
    assert not enabled({"CI": "true"}) and not enabled({"QUANTA_DAEMON": "0"})


def test_the_fingerprint_follows_the_code(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("A = 1\n")
    (package / "sub" / "b.py").write_text("B = 1\n")
    original = fingerprint(package, [str(tmp_path)], "/usr/bin/python3")
    assert fingerprint(package, [str(tmp_path)], "/usr/bin/python3") == original
    assert fingerprint(package, [str(tmp_path)], "/opt/python3") != original
    (package / "sub" / "__pycache__").mkdir()
    (package / "sub" / "__pycache__" / "b.cpython-311.pyc").write_bytes(b"compiled")  # written by imports
    settled = fingerprint(package, [str(tmp_path)], "/usr/bin/python3")
    assert settled == original
    os.utime(package / "sub" / "b.py", ns=(1, 1))
    assert fingerprint(package, [str(tmp_path)], "/usr/bin/python3") != settled
    shutil.rmtree(package / "sub")
    assert fingerprint(package, [str(tmp_path)], "/usr/bin/python3") != settled


def test_a_folder_others_can_enter_is_refused_and_the_command_runs_cold(tmp_path: Path) -> None:
    shared = tmp_path / "run" / "quanta"
    shared.mkdir(parents=True)
    shared.chmod(0o777)
    with pytest.raises(PermissionError):
        runtime_dir({"QUANTA_RUNTIME_DIR": str(tmp_path / "run")})
    server = Server(tmp_path)
    server.quanta("init", "shop")
    assert server.quanta("validate", "shop").returncode == 0
    assert list(shared.iterdir()) == []


def test_the_server_keeps_no_credentials_of_the_client_that_started_it(tmp_path: Path) -> None:
    server = Server(tmp_path)
    server.quanta("validate", "nowhere", AWS_SECRET_ACCESS_KEY="do-not-keep")
    environment = Path(f"/proc/{server.pid()}/environ").read_bytes()
    server.stop()
    assert b"do-not-keep" not in environment and b"PATH=" in environment


def test_interpreter_options_and_a_refusing_server_mean_running_cold(tmp_path: Path) -> None:
    server = Server(tmp_path)
    warned = subprocess.run(
        [sys.executable, "-W", "error", "-m", "quanta", "validate", "nowhere"],
        cwd=tmp_path,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert warned.returncode == 1 and not (server.folder / "quanta").exists()
    folder = runtime_dir(server.env)
    refused = server.quanta("validate", "nowhere")
    assert refused.returncode == 1 and "no such file" in refused.stderr
    sockets = wait_for(lambda: list(folder.glob("*.sock")), "a server")
    server.stop()
    sockets[0].with_suffix(".refused").write_text("not serving: test\n")
    for log in folder.glob("*.log"):
        log.unlink()
    server.quanta("validate", "nowhere")
    time.sleep(1)
    assert not list(folder.glob("*.sock")) and not list(folder.glob("*.log"))


def test_ctrl_c_reaches_the_command_and_the_client_exits_like_it(server: Server) -> None:
    server.mesh(built=True)
    client, children = server.slow_query()
    wait_for(lambda: cpu_seconds(children[0]) > 2, "the query to run")  # past start-up, inside DuckDB
    client.send_signal(signal.SIGINT)
    _, errors = client.communicate(timeout=30)
    assert client.returncode == 130, errors
    assert not any(alive(c) for c in children)
    wait_for(lambda: len(server.served()) == 2, "the server to reap it")
    assert server.served()[1:] == [("query", str(130 << 8))]


def test_ctrl_z_stops_client_and_command_together_and_fg_resumes_both(server: Server) -> None:
    server.mesh(built=True)
    client, children = server.slow_query()
    wait_for(lambda: cpu_seconds(children[0]) > 1, "the query to run")
    client.send_signal(signal.SIGTSTP)
    wait_for(lambda: state(client.pid) == "T" and state(children[0]) == "T", "both to stop")
    stopped_at = cpu_seconds(children[0])
    time.sleep(1)
    assert cpu_seconds(children[0]) == stopped_at
    client.send_signal(signal.SIGCONT)
    wait_for(lambda: cpu_seconds(children[0]) > stopped_at + 0.5, "the command to resume")
    client.send_signal(signal.SIGINT)
    assert client.wait(timeout=30) == 130


def test_a_client_without_stdin_runs_cold(server: Server) -> None:
    server.mesh()
    closed = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m quanta validate shop <&-"],
        cwd=server.cwd,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert closed.returncode == 0, closed.stderr
    assert server.served() == []


def test_quanta_daemon_status_and_stop(server: Server) -> None:
    assert "no server running" in server.quanta("daemon", "status").stdout
    server.quanta("init", "shop")
    server.quanta("validate", "shop")
    pid = server.pid()
    server.quanta("status", "shop")
    wait_for(lambda: server.served(), "a served command")
    listed = server.quanta("daemon", "status").stdout
    assert f"pid {pid}" in listed and "1 command(s) served" in listed and "(this installation)" in listed
    assert "stopped 1 server(s)" in server.quanta("daemon", "stop").stdout
    wait_for(lambda: not alive(pid), "the server to stop", seconds=10)


def test_the_clients_resource_limits_hold_in_the_server_child(server: Server) -> None:
    server.mesh()
    command = f"ulimit -f 4 && {sys.executable} -m quanta build shop"  # files of at most 4 KiB
    cold = subprocess.run(["bash", "-c", command], cwd=server.cwd, env={**server.env, "QUANTA_DAEMON": "0"})
    served = subprocess.run(["bash", "-c", command], cwd=server.cwd, env=server.env, capture_output=True, text=True)
    assert served.returncode == cold.returncode != 0
    assert "disk I/O error" in served.stderr  # the catalog write hits the limit first
    assert server.served() == [("build", str(served.returncode << 8))]
    assert server.quanta("build", "shop").returncode == 0  # without the limit it builds
