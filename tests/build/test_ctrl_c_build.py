"""Ctrl-C during a build stops the running query at once (DuckDB alone would finish the
aggregate first) and keeps the last good snapshot current."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from processes import cpu_seconds
from quanta.project import Mesh

SLOW = """select order_date, country, sum(amount) as revenue, count(*) as orders
from orders, (select 1 from orders a{joins}) as x
group by order_date, country
""".format(joins="".join(f", orders t{i}" for i in range(14)))  # 5^16 rows before the aggregate ends


def test_ctrl_c_stops_a_build_and_keeps_the_last_good_snapshot(mesh_dir: Path) -> None:
    environment = {**os.environ}
    quanta = [sys.executable, "-m", "quanta", "build", str(mesh_dir)]
    assert subprocess.run(quanta, env=environment, capture_output=True, timeout=120).returncode == 0
    previous = _current(mesh_dir)
    (mesh_dir / "products/sales/daily-revenue/daily_revenue.sql").write_text(SLOW)
    build = subprocess.Popen(quanta, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while cpu_seconds(build.pid) < 3 and time.monotonic() < deadline:  # deep in the slow query
        time.sleep(0.05)
    interrupted_at = time.monotonic()
    build.send_signal(signal.SIGINT)
    _, errors = build.communicate(timeout=60)
    assert build.returncode == 130, errors
    assert time.monotonic() - interrupted_at < 10
    assert _current(mesh_dir) == previous
    mesh = Mesh.load(mesh_dir)
    try:
        assert mesh.workspace.catalog.runs.runs(limit=1)[0].status == "failed"
    finally:
        mesh.close()
    assert not any((mesh_dir / ".quanta/warehouse/_staging").glob("*/*"))


def _current(root: Path) -> str | None:
    mesh = Mesh.load(root)
    try:
        current = mesh.workspace.catalog.snapshots.current("sales.daily-revenue@v1")
        return current.id if current else None
    finally:
        mesh.close()
