"""The SQL port under load, served by `quanta serve` in its own process: 100 connections loop
primary-key lookups while one more runs a long aggregate. The lookups all answer correctly,
their p99 stays within 5x of the same 100 connections without the aggregate, and a cancel stops
the aggregate within a second with 57014, the connection usable after."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from quanta.project import Mesh
from quanta.project.platform import Platform
from serving_mesh import PRINCIPALS, ROWS, build, free_port, start_serve, write_mesh

PASSWORD = "many connections"
CONNECTIONS = 100
PHASE_S = 6.0
LONG = (
    "select sum(a.amount * b.amount * c.amount * d.amount) as s "
    "from sales.orders a, sales.orders b, sales.orders c, sales.orders d"
)  # 240^4 = 3.3 billion rows: minutes of work, unless cancelled

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sql_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    base = tmp_path_factory.mktemp("sql-load")
    root = write_mesh(base / "demo")
    build(root)
    platform = Platform.open(Mesh.load(root).settings(), root)
    platform.add_principal(PRINCIPALS["nora"])
    platform.set_password("nora", PASSWORD)
    platform.close()
    port = free_port()
    process, _ = start_serve([str(root), "--sql-port", str(port)], cwd=root, log=base / "serve.log")
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _connect(port: int) -> psycopg.Connection:
    return psycopg.connect(f"host=127.0.0.1 port={port} dbname=quanta user=nora password='{PASSWORD}'", autocommit=True)


def _lookups(port: int, seconds: float) -> tuple[list[float], list[str]]:
    """Every connection loops point queries for ``seconds``: the latencies (ms) and any failures."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    connections = [_connect(port) for _ in range(CONNECTIONS)]
    start = threading.Barrier(CONNECTIONS)

    def loop(index: int, connection: psycopg.Connection) -> None:
        mine: list[float] = []
        start.wait()
        deadline = time.monotonic() + seconds
        i = index
        try:
            while time.monotonic() < deadline:
                order = f"o-{i % ROWS:05d}"
                began = time.perf_counter()
                row = connection.execute(
                    "select order_id, amount from sales.orders where order_id = %s", [order]
                ).fetchone()
                mine.append((time.perf_counter() - began) * 1000)
                if row is None or row[0] != order:
                    raise AssertionError(f"{order}: {row}")
                i += CONNECTIONS
        except Exception as exc:  # collected: the test names every failure
            with lock:
                failures.append(f"{type(exc).__name__}: {exc}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=loop, args=(i, c)) for i, c in enumerate(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for connection in connections:
        connection.close()
    return latencies, failures


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def test_lookups_stay_fast_beside_a_long_aggregate_and_a_cancel_stops_it(sql_port: int) -> None:
    alone, failures = _lookups(sql_port, PHASE_S)
    assert not failures and len(alone) > 500, failures[:3]

    long_running = _connect(sql_port)
    outcome: dict[str, object] = {}

    def aggregate() -> None:
        began = time.monotonic()
        try:
            long_running.execute(LONG).fetchall()
            outcome["error"] = None
        except psycopg.Error as exc:
            outcome["error"] = exc
        outcome["ended"] = time.monotonic()
        outcome["ran"] = outcome["ended"] - began  # type: ignore[operator]

    worker = threading.Thread(target=aggregate)
    worker.start()
    time.sleep(1.0)  # the aggregate is under way
    beside, failures = _lookups(sql_port, PHASE_S)
    assert "ended" not in outcome, "the aggregate finished before the lookups did: make it longer"
    cancelled_at = time.monotonic()
    long_running.cancel()
    worker.join(timeout=10)
    assert not failures, failures[:3]
    assert isinstance(outcome["error"], psycopg.errors.QueryCanceled), outcome
    assert float(outcome["ended"]) - cancelled_at < 1.0, outcome  # type: ignore[arg-type]
    assert long_running.execute("select 1").fetchone() == (1,)  # the session goes on
    long_running.close()
    ratio = _p99(beside) / _p99(alone)
    print(
        f"\nlookups alone: {len(alone)} in {PHASE_S} s, p99 {_p99(alone):.1f} ms; beside the aggregate: "
        f"{len(beside)}, p99 {_p99(beside):.1f} ms ({ratio:.2f}x)"
    )
    assert ratio <= 5.0
