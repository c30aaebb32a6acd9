"""Concurrent writers: builds of one mesh side by side against one PostgreSQL catalog never collide,
and a build whose process is killed shows as abandoned once its lease expires."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quanta.blueprints import create_mesh
from quanta.catalog import Catalog

QUANTA = [sys.executable, "-m", "quanta"]


def _start(root: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*QUANTA, *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "300", **env},
    )


@pytest.mark.slow
def test_ten_trials_of_two_concurrent_builds_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    root = tmp_path / "demo"
    create_mesh("demo", root)
    env = {"QUANTA_CATALOG": postgres_url}
    data = root / "data" / "orders.csv"
    for trial in range(10):
        with data.open("a") as handle:  # every trial has new input, so both runs want to build
            handle.write(f"o-{3000 + trial},c-{trial},FR,{10 + trial}.00,2026-11-05\n")
        runs = [_start(root, env, "build", "."), _start(root, env, "build", ".")]
        results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
        for code, out, err in results:
            assert code == 0, f"trial {trial}: exit {code}\n{out}\n{err}"
            assert "IntegrityError" not in out + err and "Traceback" not in out + err
        catalog = Catalog(postgres_url)
        steps = [s for s in catalog.runs.steps() if s.product_key == "sales.orders@v1"][:2]
        assert sorted(s.status for s in steps) == ["built", "skipped"], f"trial {trial}: {steps}"  # one built it
        current = catalog.snapshots.current("sales.orders@v1")
        assert current is not None and current.rows == 6 + trial
        assert all(r.status == "succeeded" for r in catalog.runs.runs(2))
        catalog.close()
    catalog = Catalog(postgres_url)
    assert len(catalog.products.entries()) == 2 and [m.name for m in catalog.products.meshes()] == ["demo"]
    catalog.close()


def test_a_killed_build_shows_as_abandoned_once_its_lease_expires(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    create_mesh("demo", root)
    env = {"QUANTA_RUN_LEASE": "5", "QUANTA_FAULT": "after-parquet"}
    killed = _start(root, env, "build", ".")
    assert killed.wait(timeout=60) == -9  # SIGKILL in the middle of building a product
    killed.communicate()
    runs = _start(root, {}, "catalog", "runs", "--format", "json")
    listed = json.loads(runs.communicate(timeout=60)[0])
    assert [r["status"] for r in listed] == ["running"]  # its lease has not run out yet
    time.sleep(5)
    runs = _start(root, {}, "catalog", "runs", "--format", "json")
    listed = json.loads(runs.communicate(timeout=60)[0])
    assert [r["status"] for r in listed] == ["abandoned"]
    build = _start(root, {}, "build", ".")  # the dead run's claim does not block the next build
    out, err = build.communicate(timeout=120)
    assert build.returncode == 0, out + err
