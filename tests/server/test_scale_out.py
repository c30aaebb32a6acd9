"""Scaling out: two `quanta serve` processes over one PostgreSQL catalog and shared storage answer
identically (bodies, ETags, checksums; a cursor of one is honoured by the other), and a change made
outside both — a grant and its revocation through the CLI, a token revoked, a publish — takes
effect on both at their next request (a publish within the catalog refresh interval)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from quanta.project import Mesh
from quanta.project.platform import Platform
from serving_mesh import PRINCIPALS, build, start_serve, write_mesh, write_orders

ORDERS = "/api/v1/products/sales/orders/v1"
REVENUE = "/api/v1/products/sales/daily-revenue/v1"


@dataclass
class Cluster:
    root: Path
    env: dict[str, str]
    urls: tuple[str, str]
    tokens: dict[str, str]

    def get(self, who: str, path: str, **params: object) -> tuple[httpx.Response, httpx.Response]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return (
            httpx.get(self.urls[0] + path, params=params, headers=headers, timeout=30),
            httpx.get(self.urls[1] + path, params=params, headers=headers, timeout=30),
        )

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`quanta ARGS` against the shared catalog from outside any mesh folder."""
        result = subprocess.run(
            [sys.executable, "-m", "quanta", *args],
            cwd=self.root.parent,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        return result


@pytest.fixture(scope="module")
def cluster(module_postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One cluster for the module (its tests leave the catalog as they found it, but for the publish
    test, last)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("QUANTA_CATALOG", module_postgres_url)
        yield from _cluster(module_postgres_url, tmp_path_factory.mktemp("scale-out"))


def _cluster(postgres_url: str, tmp_path: Path) -> Iterator[Cluster]:
    root = write_mesh(tmp_path / "demo")
    env = {
        "QUANTA_CATALOG": postgres_url,
        "QUANTA_STORAGE": str(root / ".quanta/warehouse"),
        "QUANTA_SERVER_SECRET": "shared-" + "k" * 40,
    }
    build(root)
    mesh = Mesh.load(root)
    platform = Platform.open(mesh.settings(), root)
    try:
        tokens = {}
        for record in PRINCIPALS.values():
            platform.add_principal(record)
            tokens[record.id], _ = platform.create_token(record.id)
    finally:
        platform.close()
        mesh.close()
    # one from the mesh folder, one from the settings alone, each with its own rendition cache
    first, url_a = start_serve(
        [str(root), "--cache-dir", str(tmp_path / "cache-a")], root.parent, env, tmp_path / "a.log"
    )
    second, url_b = start_serve(["--cache-dir", str(tmp_path / "cache-b")], tmp_path, env, tmp_path / "b.log")
    try:
        yield Cluster(root, env, (url_a, url_b), tokens)
    finally:
        for process in (first, second):
            process.send_signal(signal.SIGTERM)
        for process in (first, second):
            process.communicate(timeout=30)
            assert process.returncode == 0


def _same(pair: tuple[httpx.Response, httpx.Response], status: int = 200) -> httpx.Response:
    a, b = pair
    assert a.status_code == b.status_code == status, (a.text, b.text)
    assert a.content == b.content
    for header in ("etag", "x-quanta-snapshot", "x-quanta-sha256", "content-length", "content-type"):
        assert a.headers.get(header) == b.headers.get(header), header
    return a


def test_two_processes_answer_identically(cluster: Cluster) -> None:
    for who in ("ann", "carl", "cleo", "root"):
        _same(cluster.get(who, ORDERS + "/rows", limit=20, sort="-amount"))
        _same(cluster.get(who, ORDERS + "/rows", format="csv", country="FR"))
        _same(cluster.get(who, ORDERS + "/rows/o-00041"))
        _same(cluster.get(who, ORDERS + "/openapi.json"))
        for file_format in ("parquet", "csv"):
            _same(cluster.get(who, ORDERS + "/files/files", format=file_format))
    _same(cluster.get("nora", ORDERS + "/rows"), 403)
    _same(cluster.get("ann", ORDERS + "/rows/o-99999"), 404)
    _same(cluster.get("ann", ORDERS + "/rows", limit="many"), 400)
    carl = _same(cluster.get("carl", ORDERS + "/rows", limit=5)).json()
    assert {r["country"] for r in carl["items"]} == {"FR"}


def test_a_cursor_of_one_process_is_honoured_by_the_other(cluster: Cluster) -> None:
    headers = {"Authorization": f"Bearer {cluster.tokens['ann']}"}
    ids = []
    url = cluster.urls[0] + ORDERS + "/rows"
    page = httpx.get(url, params={"limit": 50}, headers=headers).json()
    turn = 1
    while True:
        ids += [r["order_id"] for r in page["items"]]
        if page["next"] is None:
            break
        url = cluster.urls[turn % 2] + ORDERS + "/rows"
        response = httpx.get(url, params={"cursor": page["next"]}, headers=headers)
        assert response.status_code == 200, response.text
        page, turn = response.json(), turn + 1
    assert turn > 2 and ids == sorted(ids) and len(set(ids)) == len(ids) == 240


def _eventually(check: object, seconds: float = 0.0) -> None:
    """Catalog changes are seen at the next request; a publish within the refresh interval (1 s)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            check()  # type: ignore[operator]
            return
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def test_a_grant_through_the_cli_takes_effect_on_both_at_the_next_request(cluster: Cluster) -> None:
    _same(cluster.get("nora", REVENUE + "/rows"), 403)
    cluster.cli("access", "grant", "sales.daily-revenue", "--port", "api", "--principal", "nora")
    allowed = _same(cluster.get("nora", REVENUE + "/rows"))  # no waiting: the very next request
    assert allowed.json()["items"]
    grants = json.loads(cluster.cli("access", "grants", "--format", "json").stdout)
    (grant,) = [g for g in grants if g.get("principal") == "nora"]
    cluster.cli("access", "revoke", str(grant["id"]))
    _same(cluster.get("nora", REVENUE + "/rows"), 403)


def test_a_token_revoked_on_a_third_platform_is_refused_by_both(cluster: Cluster) -> None:
    mesh = Mesh.load(cluster.root)
    platform = Platform.open(mesh.settings(), cluster.root)
    try:
        cluster.tokens["ann-2"], record = platform.create_token("ann")
        _same(cluster.get("ann-2", ORDERS + "/rows", limit=1))
        platform.revoke_token(record.id)
    finally:
        platform.close()
        mesh.close()
    _same(cluster.get("ann-2", ORDERS + "/rows", limit=1), 401)
    _same(cluster.get("ann", ORDERS + "/rows", limit=1))  # her other token still works


def test_a_publish_is_served_by_both_without_restart(cluster: Cluster) -> None:
    before = _same(cluster.get("cleo", ORDERS + "/rows", limit=1)).headers["x-quanta-snapshot"]
    write_orders(cluster.root, 12, offset=3000)
    build(cluster.root)

    def both_serve_the_new_snapshot() -> None:
        latest = _same(cluster.get("cleo", ORDERS + "/rows", limit=1))
        assert latest.headers["x-quanta-snapshot"] != before
        assert latest.json()["items"][0]["order_id"] == "o-03000"

    _eventually(both_serve_the_new_snapshot, seconds=10)
