"""Python transforms of independent products run side by side: only their module loading is
serialised, each product keeps its own same-named local modules, and the run record charges
each product only its own time."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from quanta.project import Mesh

MESH = """apiVersion: quanta/v1
kind: Mesh
name: side
platform: {engine: duckdb, storage: .quanta/warehouse, catalog: "sqlite:///.quanta/catalog.db", threads: 2}
domains: [{name: sales}]
systems: [{name: shop, domain: sales}]
products: [products/**/dataproduct.yaml]
"""

PRODUCT = """apiVersion: quanta/v1
kind: DataProduct
name: {name}
domain: sales
version: 1.0.0
inputs:
  - {{id: seed, type: files, path: data/seed.csv, system: shop}}
transform: {{type: python, entrypoint: model.py:build}}
schema:
  properties:
    - {{name: id, logicalType: integer, primaryKey: true}}
    - {{name: made_by, logicalType: string}}
"""

MODEL_PY = """import json
import time
from pathlib import Path

import helpers  # this product's own helpers.py: the other product has one of the same name


def build(inputs):
    began = time.time()
    time.sleep({seconds})  # like NumPy or DuckDB work: the GIL is free meanwhile
    table = inputs.sql("select id, '" + helpers.NAME + "' as made_by from seed")
    Path({log!r}).write_text(json.dumps([began, time.time()]))
    return table
"""

SECONDS = 1.5


def _mesh(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "data/seed.csv").write_text("id\n1\n2\n")
    (root / "mesh.yaml").write_text(MESH)
    for name in ("alpha", "beta"):
        folder = root / "products" / name
        folder.mkdir(parents=True)
        (folder / "dataproduct.yaml").write_text(PRODUCT.format(name=name))
        (folder / "helpers.py").write_text(f"NAME = {name!r}\n")
        log = str(root / f"{name}.json")
        (folder / "model.py").write_text(MODEL_PY.format(seconds=SECONDS, log=log))
    return root


def test_two_python_transforms_overlap_and_each_is_charged_its_own_time(tmp_path: Path) -> None:
    root = _mesh(tmp_path / "side")
    mesh = Mesh.load(root)
    try:
        report = mesh.build()
        outcomes = {o.key: o for o in report.outcomes}
        assert {o.status for o in outcomes.values()} == {"built"}, [o.error for o in outcomes.values()]
        spans = {name: json.loads((root / f"{name}.json").read_text()) for name in ("alpha", "beta")}
        (a_start, a_end), (b_start, b_end) = spans["alpha"], spans["beta"]
        assert a_start < b_end and b_start < a_end, spans  # they ran at the same time
        for outcome in outcomes.values():
            assert SECONDS <= outcome.duration_s < 2 * SECONDS - 0.2, outcome  # not billed the other's time
        steps = {s.product_key: s for s in mesh.workspace.catalog.runs.steps(report.run_id)}
        assert {k: round(s.duration_s, 3) for k, s in steps.items()} == {
            k: round(o.duration_s, 3) for k, o in outcomes.items()
        }
        made_by = {name: {r["made_by"] for r in mesh.read(f"sales.{name}").to_pylist()} for name in ("alpha", "beta")}
        assert made_by == {"alpha": {"alpha"}, "beta": {"beta"}}  # each imported its own helpers.py
    finally:
        mesh.close()


SLEEPY = """apiVersion: quanta/v1
kind: DataProduct
name: {name}
domain: sales
version: 1.0.0
inputs:
  - {{id: seed, type: {kind}, {source}}}
transform: {{type: python, entrypoint: model.py:build}}
schema:
  properties:
    - {{name: id, logicalType: integer, primaryKey: true}}
"""

SLEEPY_PY = """import json
import os
import time
from pathlib import Path


def build(inputs):
    began = time.time()
    time.sleep(float(os.environ.get("SLEEP_" + {name!r}.upper().replace("-", "_"), "0")))
    table = inputs.sql("select id from seed")
    Path({log!r}).write_text(json.dumps([began, time.time()]))
    return table
"""


def _sleepy_mesh(root: Path, products: dict[str, str | None]) -> Path:
    """Python products that sleep ``SLEEP_<NAME>`` seconds; each reads the seed file or its upstream."""
    (root / "data").mkdir(parents=True)
    (root / "data/seed.csv").write_text("id\n1\n")
    (root / "mesh.yaml").write_text(MESH)
    for name, upstream in products.items():
        folder = root / "products" / name
        folder.mkdir(parents=True)
        kind, source = (
            ("product", f"product: sales.{upstream}, major: 1")
            if upstream
            else ("files", "path: data/seed.csv, system: shop")
        )
        (folder / "dataproduct.yaml").write_text(SLEEPY.format(name=name, kind=kind, source=source))
        (folder / "model.py").write_text(SLEEPY_PY.format(name=name, log=str(root / f"{name}.json")))
    return root


def _spans(root: Path, names: list[str]) -> dict[str, list[float]]:
    return {name: json.loads((root / f"{name}.json").read_text()) for name in names}


needs_two_workers = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two build workers")


@needs_two_workers
def test_a_product_starts_as_soon_as_its_upstreams_are_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a generation at a time: `after-quick` need not wait for the unrelated slow product."""
    root = _sleepy_mesh(tmp_path / "dag", {"slow": None, "quick": None, "after-quick": "quick"})
    monkeypatch.setenv("SLEEP_SLOW", "2.0")
    mesh = Mesh.load(root)
    try:
        report = mesh.build()
    finally:
        mesh.close()
    assert all(o.status == "built" for o in report.outcomes), report.outcomes
    spans = _spans(root, ["slow", "quick", "after-quick"])
    assert spans["quick"][1] <= spans["after-quick"][0] < spans["slow"][1], spans
    keys = [o.key for o in report.outcomes]
    assert keys.index("sales.quick@v1") < keys.index("sales.after-quick@v1")  # the report keeps dependency order


@needs_two_workers
def test_the_longest_expected_product_starts_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _sleepy_mesh(tmp_path / "lpt", {"a-short": None, "b-short": None, "c-long": None})
    for name, seconds in (("A_SHORT", "0.5"), ("B_SHORT", "0.5"), ("C_LONG", "1.5")):
        monkeypatch.setenv(f"SLEEP_{name}", seconds)
    mesh = Mesh.load(root)
    try:
        mesh.build()  # nothing known yet: by name, so c-long starts last
        first = _spans(root, ["b-short", "c-long"])
        assert first["c-long"][0] >= first["b-short"][0]
        mesh.build(full=True)  # now the last durations are known: c-long goes in the first wave
        second = _spans(root, ["a-short", "b-short", "c-long"])
        # two workers: c-long starts beside one short product (which of the two equal ones is a
        # race), before either has finished; by name it would wait for one of them to finish
        assert second["c-long"][0] < min(second["a-short"][1], second["b-short"][1]), second
    finally:
        mesh.close()
