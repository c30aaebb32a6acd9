"""Loader behaviour: YAML scalars, no user code imported, all files reported at once."""

from __future__ import annotations

from pathlib import Path

from quanta.project import Mesh
from quanta.spec.yamlsource import parse_yaml


def test_dates_stay_strings_and_only_true_false_are_booleans() -> None:
    document, diagnostics = parse_yaml("expires: 2027-06-30\ncountry: NO\nconsent: yes\nflag: true\n", "x.yaml")
    assert document is not None and not diagnostics
    assert document.data == {"expires": "2027-06-30", "country": "NO", "consent": "yes", "flag": True}


def test_grant_expiry_is_parsed_as_a_date_by_the_model(mesh_dir: Path) -> None:
    spec = mesh_dir / "products/sales/orders/dataproduct.yaml"
    spec.write_text(spec.read_text().replace("ports: [table, files]}", "ports: [table, files], expires: 2027-06-30}"))
    mesh = Mesh.load(mesh_dir)
    orders = next(p for p in mesh.source.products if p.spec.name == "orders")
    assert str(orders.spec.access.grants[0].expires) == "2027-06-30"


def test_loading_imports_no_user_code(mesh_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    spec = mesh_dir / "products/sales/daily-revenue/dataproduct.yaml"
    spec.write_text(
        spec.read_text().replace(
            "transform: {type: sql, dialect: duckdb, steps: [daily_revenue.sql]}",
            "transform: {type: python, entrypoint: build.py:build}",
        )
    )
    (spec.parent / "build.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit('imported!')\n")
    report = Mesh.validate(mesh_dir)
    assert report.ok, [d.render() for d in report.diagnostics]
    assert not marker.exists()


def test_errors_of_all_files_are_reported_at_once(mesh_dir: Path) -> None:
    for name in ("orders", "daily-revenue"):
        spec = mesh_dir / f"products/sales/{name}/dataproduct.yaml"
        spec.write_text(spec.read_text().replace("status: active", "status: live"))
    (mesh_dir / "mesh.yaml").write_text((mesh_dir / "mesh.yaml").read_text().replace("domain: sales,", "domain: x,"))
    report = Mesh.validate(mesh_dir)
    assert {d.location.path for d in report.errors} == {
        "demo/mesh.yaml",
        "demo/products/sales/orders/dataproduct.yaml",
        "demo/products/sales/daily-revenue/dataproduct.yaml",
    }


def test_empty_and_non_mapping_files(mesh_dir: Path) -> None:
    (mesh_dir / "products/sales/orders/dataproduct.yaml").write_text("")
    (mesh_dir / "products/sales/daily-revenue/dataproduct.yaml").write_text("- a\n- b\n")
    report = Mesh.validate(mesh_dir)
    not_mappings = {d.location.path for d in report.errors if d.code == "not-a-mapping"}
    assert not_mappings == {
        "demo/products/sales/orders/dataproduct.yaml",
        "demo/products/sales/daily-revenue/dataproduct.yaml",
    }


def test_missing_mesh_file(tmp_path: Path) -> None:
    report = Mesh.validate(tmp_path / "nowhere")
    assert [d.code for d in report.errors] == ["file-not-found"]
    assert report.source is None


def test_loaded_product_exposes_plugin_options(mesh_dir: Path) -> None:
    mesh = Mesh.load(mesh_dir)
    revenue = next(p for p in mesh.source.products if p.spec.name == "daily-revenue")
    assert revenue.spec.inputs[0].options.product == "sales.orders"
    assert revenue.spec.inputs[0].options.major == 1
    orders = next(p for p in mesh.source.products if p.spec.name == "orders")
    assert orders.spec.outputs[1].options.formats == ["parquet", "csv"]
