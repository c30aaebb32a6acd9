"""The catalog as the registry: ownership by mesh, published descriptors, and commands that work
from any folder given only the catalog and storage settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from quanta.blueprints import create_mesh
from quanta.catalog import Catalog
from quanta.project import Mesh

QUANTA = [sys.executable, "-m", "quanta"]


def quanta(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*QUANTA, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "400", **(env or {})},
    )


def _mesh(root: Path, name: str) -> Path:
    create_mesh(name, root)
    orders = root / "products/sales/orders/dataproduct.yaml"
    orders.write_text(
        orders.read_text().replace(
            "{name: customer_id, logicalType: string, required: true,",
            "{name: customer_id, logicalType: string, required: true, classification: pii,",
        )
    )
    return root


def test_another_mesh_may_not_publish_a_key_until_it_is_transferred(tmp_path: Path) -> None:
    shared = {"QUANTA_CATALOG": f"sqlite:///{tmp_path / 'shared.db'}"}
    first, second = _mesh(tmp_path / "first", "first"), _mesh(tmp_path / "second", "second")
    assert quanta("build", ".", cwd=first, env=shared).returncode == 0
    refused = quanta("build", ".", cwd=second, env=shared)
    assert refused.returncode == 1
    assert "sales.orders belongs to mesh 'first', so mesh 'second' may not publish it" in refused.stdout
    assert "quanta catalog transfer sales.orders --to second" in refused.stdout
    assert "Traceback" not in refused.stdout + refused.stderr
    catalog = Catalog(shared["QUANTA_CATALOG"])
    assert {e.key: e.mesh for e in catalog.products.entries()} == {
        "sales.daily-revenue@v1": "first",
        "sales.orders@v1": "first",
    }
    snapshots_before = catalog.snapshots.ids()
    catalog.close()
    moved = quanta("catalog", "transfer", "sales.orders", "--to", "second", cwd=first, env=shared)
    assert moved.returncode == 0 and "sales.orders@v1 now belong(s) to mesh 'second'" in moved.stdout
    with (second / "data/orders.csv").open("a") as data:  # second's own orders differ from first's
        data.write("o-2001,c-9,FR,10.00,2026-11-05\n")
    again = quanta("build", ".", cwd=second, env=shared)
    assert again.returncode == 1  # daily-revenue is still first's
    catalog = Catalog(shared["QUANTA_CATALOG"])
    steps = {s.product_key: s.status for s in catalog.runs.steps(run_id=catalog.runs.runs(1)[0].id)}
    assert steps == {"sales.orders@v1": "built", "sales.daily-revenue@v1": "failed"}
    assert {e.key: e.mesh for e in catalog.products.entries()}["sales.orders@v1"] == "second"
    assert len(catalog.snapshots.ids() - snapshots_before) == 1
    assert [m.name for m in catalog.products.meshes()] == ["first", "second"]
    catalog.close()
    unknown = quanta("catalog", "transfer", "sales.nothing", "--to", "second", cwd=first, env=shared)
    assert unknown.returncode == 1 and "the catalog has no product 'sales.nothing'" in unknown.stderr


def test_a_product_built_in_one_folder_is_shown_searched_queried_and_exported_from_an_empty_one(
    tmp_path: Path,
) -> None:
    platform = {
        "QUANTA_CATALOG": f"sqlite:///{tmp_path / 'platform' / 'catalog.db'}",
        "QUANTA_STORAGE": str(tmp_path / "platform" / "warehouse"),
    }
    (tmp_path / "platform").mkdir()
    mesh = _mesh(tmp_path / "shop", "shop")
    assert quanta("build", ".", cwd=mesh, env=platform).returncode == 0
    empty = tmp_path / "elsewhere"
    empty.mkdir()

    status = json.loads(quanta("status", "--format", "json", cwd=empty, env=platform).stdout)
    assert [(p["product"], p["mesh"], p["rows"]) for p in status["products"]] == [
        ("sales.daily-revenue@v1", "shop", 5),
        ("sales.orders@v1", "shop", 5),
    ]
    assert status["scope"].startswith("catalog sqlite:///")

    shown = quanta("show", "sales.orders", "--format", "json", cwd=empty, env=platform)
    assert shown.returncode == 0, shown.stderr
    details = json.loads(shown.stdout)
    assert details["address"] == "quanta://sales/orders/v1" and details["mesh"] == "shop"
    assert details["downstream"] == ["sales.daily-revenue@v1"] and details["team"]["name"] == "sales-data"
    assert {r["customer_id"] for r in details["sample"]} == {"***"}  # classified: masked in samples
    assert "sales.orders" in quanta("show", "sales.orders", cwd=empty, env=platform).stdout

    found = json.loads(quanta("search", "revenue country", "--format", "json", cwd=empty, env=platform).stdout)
    assert [hit["key"] for hit in found["hits"]] == ["sales.daily-revenue@v1"]

    rows = quanta(
        "query",
        "select count(*) as n, min(customer_id) as c from sales.orders",
        "--format",
        "json",
        cwd=empty,
        env=platform,
    )
    assert rows.returncode == 0, rows.stderr
    assert json.loads(rows.stdout) == [{"n": 5, "c": "***"}]

    exported = quanta("export", "sales.orders", "--out", str(empty / "orders.parquet"), cwd=empty, env=platform)
    assert exported.returncode == 0, exported.stderr
    assert pq.read_table(empty / "orders.parquet").num_rows == 5

    by_option = quanta(
        "status", "--catalog", platform["QUANTA_CATALOG"], "--format", "json", cwd=empty, env={"QUANTA_CATALOG": ""}
    )
    assert by_option.returncode == 0 and len(json.loads(by_option.stdout)["products"]) == 2


def test_without_a_mesh_or_a_catalog_the_error_says_where_it_looked(tmp_path: Path) -> None:
    result = quanta("status", cwd=tmp_path, env={"QUANTA_CATALOG": ""})
    assert result.returncode == 1
    assert "looked at ./mesh.yaml, --catalog and QUANTA_CATALOG" in result.stderr
    no_storage = quanta(
        "query", "select 1", "--catalog", f"sqlite:///{tmp_path / 'c.db'}", cwd=tmp_path, env={"QUANTA_STORAGE": ""}
    )
    assert no_storage.returncode == 1 and "QUANTA_STORAGE" in no_storage.stderr


def _build(root: Path) -> set[str]:
    mesh = Mesh.load(root)
    try:
        return {o.status for o in mesh.build().outcomes}
    finally:
        mesh.close()


def test_publishing_stores_the_full_spec_the_served_files_and_the_mesh_descriptor(mesh_dir: Path) -> None:
    product = mesh_dir / "products/sales/daily-revenue"
    spec = product / "dataproduct.yaml"
    spec.write_text(
        spec.read_text().replace(
            "outputs:\n", "outputs:\n  - {id: weekly, type: report, template: report.html.j2}\n", 1
        )
    )
    (product / "report.html.j2").write_text(
        '{% extends "base.html.j2" %}{% block body %}{{ snapshot.rows }}{% endblock %}'
    )
    (product / "base.html.j2").write_text("<html>{% block body %}{% endblock %}</html>")
    assert _build(mesh_dir) == {"built"}
    catalog = Catalog(f"sqlite:///{mesh_dir / '.quanta' / 'catalog.db'}")
    descriptor = catalog.products.current_descriptor("sales.daily-revenue@v1")
    assert descriptor is not None and descriptor.mesh == "demo"
    assert set(descriptor.files) == {"report.html.j2", "base.html.j2"}
    assert descriptor.files["base.html.j2"] == (product / "base.html.j2").read_bytes()
    weekly = descriptor.spec["outputs"][0]
    assert (weekly["id"], weekly["type"], weekly["template"]) == ("weekly", "report", "report.html.j2")
    assert descriptor.spec["access"]["grants"] and descriptor.spec["schema"]["properties"]
    mesh = catalog.products.mesh("demo")
    assert mesh is not None and "platform" not in mesh.spec and mesh.spec["roles"][0]["name"] == "analysts"
    assert mesh.origin.endswith(str(mesh_dir.resolve()))
    first_id = descriptor.id
    catalog.close()

    spec.write_text(spec.read_text().replace("description: ", "description: Now with a new sentence. ", 1))
    assert _build(mesh_dir) == {"skipped"}  # a description edit shapes no data
    catalog = Catalog(f"sqlite:///{mesh_dir / '.quanta' / 'catalog.db'}")
    renewed = catalog.products.current_descriptor("sales.daily-revenue@v1")
    assert renewed is not None and renewed.id != first_id
    assert renewed.spec["description"].startswith("Now with a new sentence.")
    current = catalog.snapshots.current("sales.daily-revenue@v1")
    assert current is not None and current.descriptor_id == first_id  # the data was published under the first
    catalog.close()
