"""New scoring code, published while `quanta serve` runs, is what the model port scores with next:
a build whose data is up to date still publishes the product's new descriptor (its served files),
the port's warm worker for the old code is stopped and one for the new code started, and the
snapshot whose artefacts score the rows stays the same."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from decision_matrix import build_matrix_mesh, enrol
from quanta.project import Mesh
from serving_mesh import serving

URL = "/api/v1/products/sales/daily-revenue/v1/models/forecast:predict"


def _score(client, orders: int) -> tuple[float, str]:  # type: ignore[no-untyped-def]
    response = client.post(URL, json={"rows": [{"orders": orders}]})
    assert response.status_code == 200, response.text
    return response.json()["predictions"][0]["revenue"], response.headers["X-Quanta-Snapshot"]


def test_republished_scoring_code_replaces_the_running_worker(tmp_path: Path) -> None:
    root = build_matrix_mesh(tmp_path / "matrix")
    with serving(root, tmp_path / "cache", enrol=enrol) as served, served.client("manager") as client:
        revenue, first_snapshot = _score(client, 4)
        assert revenue == 50.0
        old_pid = int(_score(client, 1007)[0])  # the scoring code reports its worker's pid for 1007
        code = root / "products/sales/daily-revenue/forecast.py"
        code.write_text(code.read_text().replace("orders * 12.5}", "orders * 20.0}"))
        mesh = Mesh.load(root)
        try:
            assert {o.status for o in mesh.build(["sales.daily-revenue"]).outcomes} == {"skipped"}  # data unchanged
        finally:
            mesh.close()
        deadline = time.monotonic() + 10  # the plane sees a publish within its refresh interval (1 s)
        while (scored := _score(client, 4))[0] == 50.0 and time.monotonic() < deadline:
            time.sleep(0.2)
        revenue, second_snapshot = scored
        assert revenue == 80.0
        assert second_snapshot == first_snapshot
        assert int(_score(client, 1007)[0]) != old_pid
        with pytest.raises(ProcessLookupError):
            os.kill(old_pid, 0)  # the old code's worker was stopped (and reaped)
