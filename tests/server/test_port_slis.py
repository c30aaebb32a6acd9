"""Port SLIs end to end: requests against `quanta serve` are stored as availability and latency
measurements of the objectives the product declares, off the request path (each interval, and at
shutdown), and `quanta slo` shows them next to freshness and volume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from quanta.project import Mesh
from quanta.project.platform import Platform
from serving_mesh import PRINCIPALS, build, start_serve, write_mesh

ORDERS = "/api/v1/products/sales/orders/v1"
SLOS = """slos:
  freshness: {maxAge: 1d}
  volume: {minRows: 1}
  availability: {ports: [api, files], target: 99%}
  latency: {ports: [api], p50: 2s, p99: 10s}
"""


@pytest.fixture(scope="module")
def mesh_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = write_mesh(tmp_path_factory.mktemp("slis") / "demo", rows=40)
    orders = root / "products/sales/orders/dataproduct.yaml"
    text = orders.read_text()
    orders.write_text(text.replace("slos:\n  freshness: {maxAge: 1d}\n  volume: {minRows: 1}\n", SLOS))
    build(root)
    mesh = Mesh.load(root)
    platform = Platform.open(mesh.settings(), root)
    try:
        platform.add_principal(PRINCIPALS["ann"])
        token, _ = platform.create_token("ann")
    finally:
        platform.close()
        mesh.close()
    return root, token


def _stored(root: Path, prefix: str) -> list[str]:
    mesh = Mesh.load(root)
    try:
        return [s.check_id for s in mesh.workspace.catalog.slis.of("sales.orders@v1") if s.check_id.startswith(prefix)]
    finally:
        mesh.close()


def test_requests_become_availability_and_latency_in_quanta_slo(mesh_root: tuple[Path, str]) -> None:
    root, token = mesh_root
    process, url = start_serve([str(root), "--sli-interval", "1"], root.parent, log=root.parent / "slis.log")
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
            for _ in range(10):
                assert client.get(ORDERS + "/rows", params={"limit": 5}).status_code == 200
            assert client.get(ORDERS + "/rows", params={"limit": "many"}).status_code == 400  # not an outage
            assert client.get(ORDERS + "/rows/o-00003").status_code == 200
            assert client.get(ORDERS + "/files/files").status_code == 200
        deadline = time.monotonic() + 15
        while not _stored(root, "availability:"):  # flushed by the interval, while serving
            assert time.monotonic() < deadline, "no port SLI was stored"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    result = subprocess.run(
        [sys.executable, "-m", "quanta", "slo", "sales.orders", "--format", "json"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    (document,) = json.loads(result.stdout)
    objectives = {o["name"]: o for o in document["objectives"]}
    assert {"freshness", "volume", "availability", "latency"} <= set(objectives)
    availability, latency = objectives["availability"], objectives["latency"]
    assert availability["kind"] == latency["kind"] == "time"
    assert availability["status"] == "met" and availability["attainment"] == pytest.approx(1.0)
    assert availability["current"]["observed"] == 1.0 and availability["current"]["status"] == "passed"
    checks = {h["check"] for h in availability["history"]}
    assert checks == {"availability:api", "availability:files"}
    assert {h["check"] for h in latency["history"]} == {"latency:api:p50", "latency:api:p99"}
    assert latency["status"] == "met" and 0 < latency["current"]["observed"] <= 10
    table = subprocess.run(
        [sys.executable, "-m", "quanta", "slo", "sales.orders"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert "availability" in table.stdout and "latency" in table.stdout


def test_server_errors_count_against_availability(mesh_root: tuple[Path, str]) -> None:
    """Measured in process: nine answers and one 503 in an interval are 90% against a 99% target."""
    from quanta.server.metrics import BUCKETS
    from quanta.server.slis import PortSlis

    root, _ = mesh_root
    mesh = Mesh.load(root)
    platform = Platform.open(mesh.settings(), root)
    try:
        slis = PortSlis(platform, BUCKETS, 0)
        for status in (200,) * 8 + (404, 503):
            slis.observe("sales.orders@v1", "api", status, 0.004)
        slis.observe("", "", 500, 0.001)  # a request that named no product: nobody's SLI
        later = datetime.now(UTC) + timedelta(minutes=5)
        assert slis.flush(later) == 3  # availability, p50, p99
        assert slis.flush(later) == 0  # a window is stored once
        (document,) = mesh.slo_documents(["sales.orders"], now=later + timedelta(minutes=5))
    finally:
        platform.close()
        mesh.close()
    availability = next(o for o in document["objectives"] if o["name"] == "availability")
    assert availability["current"]["observed"] == pytest.approx(0.9)
    assert availability["current"]["status"] == "failed" and availability["current"]["check"] == "availability:api"
    assert availability["attainment"] < 0.99
