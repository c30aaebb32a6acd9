"""The fashion-retail mesh builds on Spark — local[2] and through a Spark Connect server the test
starts — and every product equals its DuckDB build: row counts, sorted rows (floating columns
within a relative 1e-9), and equal content hashes for products without floating columns."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from spark_parity import differences, fresh_mesh, has_floats, snapshot_tables

from quanta.project import Mesh

pytestmark = [pytest.mark.spark, pytest.mark.slow]

PRODUCTS = 8


def _build(root: Path, engine: str, master: str | None = None) -> Mesh:
    saved = {name: os.environ.get(name) for name in ("QUANTA_ENGINE", "QUANTA_MASTER")}
    os.environ["QUANTA_ENGINE"] = engine
    if master:
        os.environ["QUANTA_MASTER"] = master
    try:
        mesh = Mesh.load(root)
        report = mesh.build()
        failed = {o.key: (o.status, o.error) for o in report.outcomes if o.status != "built"}
        assert failed == {}, failed
        assert len(report.outcomes) == PRODUCTS
        return mesh
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def duckdb_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    mesh = _build(fresh_mesh(tmp_path_factory.mktemp("duckdb") / "fashion-retail"), "duckdb")
    yield mesh
    mesh.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Spark Connect server (from the PySpark wheel) on a free loopback port."""
    import pyspark

    home = Path(pyspark.__file__).parent
    state = tmp_path_factory.mktemp("connect")
    port = _free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_PID_DIR": str(state),
        "SPARK_LOG_DIR": str(state),
        "SPARK_IDENT_STRING": f"quanta-test-{port}",
    }
    start = [
        "bash",
        str(home / "sbin" / "start-connect-server.sh"),
        "--master",
        "local[2]",
        "--conf",
        f"spark.connect.grpc.binding.port={port}",
        "--conf",
        "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf",
        "spark.ui.enabled=false",
    ]
    subprocess.run(start, env=env, check=True, capture_output=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        else:
            logs = "\n".join(p.read_text()[-2000:] for p in state.glob("*.out"))
            raise AssertionError(f"the Spark Connect server did not listen on {port}:\n{logs}")
        yield f"sc://127.0.0.1:{port}"
    finally:
        subprocess.run(["bash", str(home / "sbin" / "stop-connect-server.sh")], env=env, capture_output=True)


@pytest.fixture
def local_session_alive() -> Iterator[None]:
    """A local (JVM) Spark session alive in this process, as the conformance suite's is in a full
    run: a Spark Connect session must still be made beside it (it once failed with
    SESSION_ALREADY_EXIST, every build in 0.03 s)."""
    from quanta.engines.registry import EngineOptions
    from quanta.engines.spark.engine import SparkEngine

    local = SparkEngine(EngineOptions(master="local[1]"))
    local.start()
    try:
        yield
    finally:
        local.close()


@pytest.mark.parametrize("where", ["local[2]", "connect"])
def test_every_product_equals_its_duckdb_build(
    duckdb_build: Mesh, tmp_path: Path, where: str, request: pytest.FixtureRequest
) -> None:
    if where == "connect":
        request.getfixturevalue("local_session_alive")
    master = request.getfixturevalue("connect_server") if where == "connect" else where
    spark = _build(fresh_mesh(tmp_path / "fashion-retail"), "spark", master)
    try:
        expected, actual = snapshot_tables(duckdb_build), snapshot_tables(spark)
        assert sorted(actual) == sorted(expected)
        problems = {key: differences(expected[key][0], actual[key][0]) for key in expected}
        assert {key: found for key, found in problems.items() if found} == {}
        exact = [key for key, (table, _) in expected.items() if not has_floats(table)]
        assert exact, "no product without floating columns to compare hashes of"
        assert {key: actual[key][1] for key in exact} == {key: expected[key][1] for key in exact}
    finally:
        spark.close()
