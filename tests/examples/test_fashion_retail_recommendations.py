"""Product Recommendations beats most-popular on the generator's data, over three seeds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from quanta.examples.fashion_retail import Settings, generate
from quanta.project import Mesh
from quanta.storage import SnapshotLocation

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fashion-retail"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [21, 22, 23])
def test_hit_rate_at_10_is_at_least_1_2_times_most_popular(tmp_path: Path, seed: int) -> None:
    root = tmp_path / "fashion-retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".quanta", "systems"))
    generate(root / "systems", Settings(scale=0.02, seed=seed))
    mesh = Mesh.load(root)
    try:
        report = mesh.build()
        assert all(o.status == "built" for o in report.outcomes), report.outcomes
        key = "marketing.product-recommendations@v1"
        snapshot = mesh.workspace.catalog.snapshots.current(key)
        assert snapshot is not None
        location = SnapshotLocation("marketing", "product-recommendations", 1)
        evaluation = mesh.workspace.store.manifest(location, snapshot.id)["artefacts"]["evaluation"]
    finally:
        mesh.close()
    assert evaluation["customers"] >= 1000
    assert evaluation["hitRateAt10"] >= 1.2 * evaluation["mostPopularHitRateAt10"] > 0, evaluation
