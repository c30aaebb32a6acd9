"""Snapshots in an S3-compatible object store (a real moto server over loopback): build, read
from a fresh cache, time travel, gc, and a build killed between the data and the manifest."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from moto import server as moto_server

from quanta.project import Mesh
from quanta.storage import SnapshotLocation

BUCKET = "quanta-test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[tuple[str, object]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    prefix = request.node.name.replace("[", "-").replace("]", "")
    monkeypatch.setenv("QUANTA_STORAGE", f"s3://{BUCKET}/{prefix}")
    monkeypatch.setenv("QUANTA_STORAGE_ENDPOINT", endpoint)
    yield prefix, client


def keys(client: object, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)  # type: ignore[attr-defined]
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_build_writes_snapshots_to_the_bucket_and_reads_them_back(mesh_dir: Path, s3: tuple[str, object]) -> None:
    prefix, client = s3
    mesh = Mesh.load(mesh_dir)
    report = mesh.build()
    assert {o.status for o in report.outcomes} == {"built"}
    stored = keys(client, prefix)
    manifests = [k for k in stored if k.endswith("/manifest.json")]
    assert len(manifests) == 2 and any("/products/sales/orders/v1/" in k for k in manifests)
    assert any(k.endswith(".parquet") and "/products/sales/daily-revenue/v1/" in k for k in stored)
    revenue = mesh.query("select sum(revenue) as total from sales.daily_revenue").to_pylist()
    assert {o.status for o in Mesh.load(mesh_dir).build().outcomes} == {"skipped"}  # a second build is a no-op

    shutil.rmtree(mesh_dir / ".quanta/cache")  # a new machine: nothing cached
    fresh = Mesh.load(mesh_dir)
    assert fresh.query("select sum(revenue) as total from sales.daily_revenue").to_pylist() == revenue
    assert (mesh_dir / ".quanta/cache/products/sales/daily-revenue/v1").is_dir()  # downloaded on first read


def test_time_travel_and_gc_in_the_bucket(mesh_dir: Path, s3: tuple[str, object]) -> None:
    prefix, client = s3
    mesh = Mesh.load(mesh_dir)
    mesh.build()
    first = mesh.workspace.catalog.snapshots.current("sales.orders@v1")
    data = mesh_dir / "data/orders.csv"
    data.write_text(data.read_text() + data.read_text().splitlines()[1].replace(",", "9,", 1) + "\n")
    mesh.build()
    assert first is not None
    shutil.rmtree(mesh_dir / ".quanta/cache")
    assert mesh.read("sales.orders", snapshot_id=first.id).num_rows == first.rows  # fetched from the bucket
    report = mesh.gc(keep=1, grace=timedelta(0))
    assert first.id in report.snapshots
    assert not [k for k in keys(client, prefix) if f"/{first.id}/" in k]
    assert mesh.read("sales.orders").num_rows == first.rows + 1


def test_a_build_killed_before_the_manifest_upload_leaves_nothing_visible(
    mesh_dir: Path, s3: tuple[str, object]
) -> None:
    prefix, client = s3
    Mesh.load(mesh_dir).build()
    before = Mesh.load(mesh_dir).workspace.catalog.snapshots.current("sales.orders@v1")
    data = mesh_dir / "data/orders.csv"
    data.write_text(data.read_text() + data.read_text().splitlines()[1].replace(",", "7,", 1) + "\n")
    killed = subprocess.run(
        [sys.executable, "-m", "quanta", "build", str(mesh_dir), "--select", "sales.orders"],
        env={**os.environ, "QUANTA_FAULT": "before-manifest-upload", "QUANTA_RUN_LEASE": "1"},
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -9, killed.stderr
    partial = {k.split("/")[-3] for k in keys(client, f"{prefix}/products/sales/orders/") if "/data/" in k}
    complete = {
        k.split("/")[-2] for k in keys(client, f"{prefix}/products/sales/orders/") if k.endswith("manifest.json")
    }
    assert partial - complete  # data of the killed build was uploaded without a manifest
    mesh = Mesh.load(mesh_dir)
    assert before is not None and mesh.workspace.catalog.snapshots.current("sales.orders@v1") == before
    from quanta.storage import SnapshotLocation

    assert mesh.workspace.store.snapshot_ids(SnapshotLocation("sales", "orders", 1)) == sorted(complete)
    time.sleep(1.2)  # the killed run's lease expires
    report = mesh.gc(keep=5, grace=timedelta(0))
    assert any(o.startswith("s3://") for o in report.orphans)
    remaining = {k.split("/")[-3] for k in keys(client, f"{prefix}/products/sales/orders/") if "/data/" in k}
    assert remaining == complete
    assert {o.status for o in mesh.build().outcomes} >= {"built"}


def test_a_storage_url_without_a_bucket_is_a_clear_error(mesh_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from quanta.errors import ConfigError

    monkeypatch.setenv("QUANTA_STORAGE", "s3://")
    with pytest.raises(ConfigError, match="name a bucket"):
        _ = Mesh.load(mesh_dir).workspace
    monkeypatch.setenv("QUANTA_STORAGE", "gs://bucket/x")
    with pytest.raises(ConfigError, match="use a folder or s3://bucket/prefix"):
        _ = Mesh.load(mesh_dir).workspace


def test_concurrent_readers_share_one_cached_copy(mesh_dir: Path, s3: tuple[str, object]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from quanta.storage import SnapshotLocation

    mesh = Mesh.load(mesh_dir)
    mesh.build()
    record = mesh.workspace.catalog.snapshots.current("sales.orders@v1")
    assert record is not None
    shutil.rmtree(mesh_dir / ".quanta/cache")
    store, location = mesh.workspace.store, SnapshotLocation("sales", "orders", 1)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: store.data_files(location, record.id), range(8)))
    assert all(r == results[0] and r for r in results)
    assert not list((mesh_dir / ".quanta/cache/_staging").glob("download-*"))


def test_engines_get_uris_each_reads_itself(mesh_dir: Path, s3: tuple[str, object]) -> None:
    """An engine reading ``s3://`` is handed the bucket's own objects (nothing downloaded); one that
    reads local files only gets ``file://`` URIs of cached copies."""
    import pyarrow.parquet as pq
    from pyarrow.fs import S3FileSystem

    prefix, _ = s3
    mesh = Mesh.load(mesh_dir)
    mesh.build()
    store, location = mesh.platform.store, SnapshotLocation("sales", "orders", 1)
    snapshot = mesh.workspace.catalog.snapshots.current("sales.orders@v1")
    assert snapshot is not None
    shutil.rmtree(mesh_dir / ".quanta/cache")
    remote = store.data_uris(location, snapshot.id, frozenset({"file", "s3"}))
    assert remote and all(
        u.startswith(f"s3://{BUCKET}/{prefix}/products/sales/orders/v1/{snapshot.id}/") for u in remote
    )
    assert not (mesh_dir / ".quanta/cache/products/sales/orders").exists()  # nothing came down
    endpoint = os.environ["QUANTA_STORAGE_ENDPOINT"].split("://", 1)
    s3fs = S3FileSystem(endpoint_override=endpoint[1], scheme=endpoint[0])
    assert sum(pq.read_metadata(u.removeprefix("s3://"), filesystem=s3fs).num_rows for u in remote) == snapshot.rows
    local = store.data_uris(location, snapshot.id)
    assert local and all(u.startswith("file://") and Path(u.removeprefix("file://")).is_file() for u in local)
