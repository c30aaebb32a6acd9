"""`quanta serve` as users run it: from a mesh folder or from catalog and storage settings alone, a
JSON access log with neither the token nor any value, graceful exit on SIGTERM and SIGINT, and a
missing extra or a forbidden port said plainly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from quanta.project import Mesh
from quanta.project.platform import Platform
from serving_mesh import PRINCIPALS, build, free_port, start_serve, write_mesh


@pytest.fixture(scope="module")
def mesh_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = write_mesh(tmp_path_factory.mktemp("cli") / "demo", rows=40)
    build(root)
    mesh = Mesh.load(root)
    platform = Platform.open(mesh.settings(), root)
    try:
        platform.add_principal(PRINCIPALS["ann"])
        platform.set_password("ann", "ann's sql password")
        token, _ = platform.create_token("ann")
    finally:
        platform.close()
    return root, token


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_a_mesh_folder_log_as_json_and_stop_gracefully(mesh_root: tuple[Path, str], stop: int) -> None:
    root, token = mesh_root
    sql_port = free_port()
    process, url = start_serve([str(root), "--sql-port", str(sql_port)], cwd=root.parent)
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
            rows = client.get("/api/v1/products/sales/orders/v1/rows", params={"country": "eq:SECRETVALUE"})
            found = client.get("/api/v1/products/sales/orders/v1/rows/o-00007")
            assert client.get("/api/v1/ready").status_code == 200
        psql = ["psql", "-X", "-At", "-h", "127.0.0.1", "-p", str(sql_port), "-U", "ann", "-d", "quanta"]
        environment = {**os.environ, "PGPASSWORD": "ann's sql password"}
        answered = subprocess.run([*psql, "-c", "select 40 + 2"], env=environment, capture_output=True, text=True)
        assert answered.stdout.strip() == "42", answered.stderr
        refused = subprocess.run(
            [*psql, "-c", "select * from sales.orders"], env=environment, capture_output=True, text=True
        )
        assert refused.returncode == 1 and "permission denied" in refused.stderr  # ann reads over REST only
    finally:
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=30)
    assert rows.status_code == 200 and rows.json()["items"] == []
    assert found.status_code == 200 and found.json()["order_id"] == "o-00007"
    assert process.returncode == 0, stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    logged = {(entry["route"], entry["status"]) for entry in lines}
    assert ("/api/v1/products/{domain}/{name}/v{major}/rows", 200) in logged
    assert ("/api/v1/products/{domain}/{name}/v{major}/rows/{key:path}", 200) in logged
    assert all(entry["principal"] == "ann" for entry in lines if "rows" in entry["route"])
    assert {entry["port"] for entry in lines if "rows" in entry["route"]} == {"api"}  # the port's id, not its type
    assert token not in stderr and token.split("_", 2)[2] not in stderr
    assert "SECRETVALUE" not in stderr and "o-00007" not in stderr


def test_serve_from_catalog_and_storage_settings_alone(mesh_root: tuple[Path, str], tmp_path: Path) -> None:
    root, token = mesh_root
    env = {
        "QUANTA_CATALOG": f"sqlite:///{root / '.quanta/catalog.db'}",
        "QUANTA_STORAGE": str(root / ".quanta/warehouse"),
        "QUANTA_SERVER_SECRET": "k" * 40,
    }
    process, url = start_serve([], cwd=tmp_path, env=env)
    try:
        response = httpx.get(
            f"{url}/api/v1/products/sales/orders/v1/rows",
            params={"limit": 3},
            headers={"Authorization": f"Bearer {token}"},
        )
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert response.status_code == 200 and len(response.json()["items"]) == 3
    assert "QUANTA_SERVER_SECRET is not set" not in stderr


def test_serve_with_the_audit_log_on_answers_reads_and_audits_them(mesh_root: tuple[Path, str]) -> None:
    """The served plane's reader is reopened with the serving limits at start-up; that must not close
    its audit writer (every read would then fail closed with 503)."""
    root, token = mesh_root
    key = "audit-key-for-the-serve-test-" + "x" * 12
    process, url = start_serve([str(root)], cwd=root.parent, env={"QUANTA_AUDIT_KEY": key})
    try:
        response = httpx.get(
            f"{url}/api/v1/products/sales/orders/v1/rows/o-00011", headers={"Authorization": f"Bearer {token}"}
        )
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert response.status_code == 200, response.text
    os.environ["QUANTA_AUDIT_KEY"] = key
    try:
        platform = Platform.open(Mesh.load(root).settings(), root)
    finally:
        del os.environ["QUANTA_AUDIT_KEY"]
    try:
        audited = platform.catalog.audit.rows(product="sales.orders", actor="ann")
    finally:
        platform.close()
    assert [(row.entry.action, row.entry.decision) for row in audited][-1:] == [("read", "allow")]


def test_port_5432_is_refused(mesh_root: tuple[Path, str]) -> None:
    root, _ = mesh_root
    result = subprocess.run(
        [sys.executable, "-m", "quanta", "serve", str(root), "--port", "5432"], capture_output=True, text=True
    )
    assert result.returncode == 1 and "PostgreSQL" in result.stderr


def test_a_memory_limit_that_is_not_a_size_is_refused(mesh_root: tuple[Path, str]) -> None:
    root, _ = mesh_root
    result = subprocess.run(
        [sys.executable, "-m", "quanta", "serve", str(root), "--memory-limit", "lots"], capture_output=True, text=True
    )
    assert result.returncode == 1 and "--memory-limit lots: give a size such as 256MB" in result.stderr


def test_a_missing_serve_dependency_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from quanta.errors import MissingExtraError
    from quanta.server import require_serve_extra

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    with pytest.raises(MissingExtraError, match=r"pip install 'quanta\[serve\]'"):
        require_serve_extra()


def test_serve_help_imports_neither_the_server_nor_heavy_libraries(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "quanta", "serve", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    import re

    names = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \| +([\w.]+)", result.stderr, flags=re.M))
    heavy = {"fastapi", "uvicorn", "starlette", "prometheus_client", "duckdb", "pyarrow", "sqlglot", "sqlalchemy"}
    assert not names & heavy, names & heavy
    assert "quanta.server" not in names
