"""Python transforms of independent products run side by side: only their module loading is
serialised, each product keeps its own same-named local modules, and the run record charges
each product only its own time."""

from __future__ import annotations

import json
from pathlib import Path

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
