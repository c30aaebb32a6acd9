"""Which engine builds a product: the platform's, or the one its ``transform.engine`` names;
``quanta validate`` reports an engine nobody registered, located, with the registered names."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from installed_engine import installed_engine  # noqa: F401  (a fixture)

from quanta.errors import ConfigError
from quanta.project import Mesh

REVENUE = Path("products/sales/daily-revenue/dataproduct.yaml")


def _set(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_product_builds_on_the_engine_its_transform_names(
    mesh_dir: Path,
    installed_engine: str,  # noqa: F811
) -> None:
    _set(mesh_dir / REVENUE, "dialect: duckdb,", "dialect: duckdb, engine: serial,")
    mesh = Mesh.load(mesh_dir)
    try:
        outcomes = {o.key: o.status for o in mesh.build().outcomes}
        assert set(outcomes.values()) == {"built"}
        ran = sys.modules[installed_engine].RAN
        assert len(ran) == 1 and "daily-revenue" in ran[0]  # the rest of the mesh built on DuckDB
        assert {o.status for o in mesh.build().outcomes} == {"skipped"}  # the same incremental rules
    finally:
        mesh.close()
    assert len(sys.modules[installed_engine].RAN) == 1


def test_an_unregistered_engine_is_a_located_validation_error(mesh_dir: Path) -> None:
    _set(mesh_dir / "mesh.yaml", "engine: duckdb", "engine: duckbd")
    _set(mesh_dir / REVENUE, "dialect: duckdb,", "dialect: duckdb, engine: trino,")
    report = Mesh.validate(mesh_dir)
    found = [d for d in report.diagnostics if d.code == "unknown-engine"]
    assert [(Path(d.location.path).name, d.location.line, d.field) for d in found] == [
        ("mesh.yaml", 8, "platform.engine"),
        ("dataproduct.yaml", 13, "transform.engine"),
    ]
    assert "did you mean 'duckdb'?" in found[0].hint and "registered engines: duckdb" in found[0].hint
    assert "registered engines: duckdb" in found[1].hint


def test_a_python_transform_asking_for_data_frames_needs_an_engine_that_has_them(mesh_dir: Path) -> None:
    orders = mesh_dir / "products/sales/orders/dataproduct.yaml"
    text = orders.read_text()
    start = text.index("transform:")
    end = text.index("\n", start)
    orders.write_text(
        text[:start] + "transform: {type: python, entrypoint: build.py:build, inputs: dataframe}" + text[end:]
    )
    (orders.parent / "build.py").write_text("def build(inputs):\n    return inputs['raw']\n")
    found = [d for d in Mesh.validate(mesh_dir).diagnostics if d.code == "engine-unsupported"]
    assert [(d.field, d.message) for d in found] == [
        ("transform.inputs", "engine 'duckdb' does not run Python transforms taking `dataframe` inputs")
    ]


def test_an_unregistered_engine_in_the_environment_names_the_variable(
    mesh_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTA_ENGINE", "sparkle")
    mesh = Mesh.load(mesh_dir)
    with pytest.raises(ConfigError, match=r"QUANTA_ENGINE: must name a registered engine: .*duckdb"):
        mesh.build()
