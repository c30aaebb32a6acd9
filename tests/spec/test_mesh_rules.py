"""Mesh-level mistakes in mesh.yaml, each reported at its exact place."""

from __future__ import annotations

from pathlib import Path

import pytest

from quanta.errors import Severity
from quanta.project import Mesh


def _edit(mesh_dir: Path, old: str, new: str) -> None:
    path = mesh_dir / "mesh.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _line_of(mesh_dir: Path, needle: str) -> int:
    lines = (mesh_dir / "mesh.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "code", "needle", "hint"),
    [
        ("{name: webshop, domain: sales,", "{name: webshop, domain: sails,", "unknown-domain", "webshop", "'sales'"),
        (
            "    domain: sales\n    statement",
            "    domain: saless\n    statement",
            "unknown-domain",
            "saless",
            "'sales'",
        ),
        ("port: table}]", "port: tabel}]", "unknown-port", "tabel", "'table'"),
        ("{product: sales.daily-revenue,", "{product: sales.daily-revenu,", "unknown-product", "daily-revenu,", ""),
        ("    owner: sales.orders", "    owner: sales.ordrs", "unknown-product", "sales.ordrs", "'sales.orders'"),
        (
            "  - {name: analysts,",
            "  - {name: sales-managers,",
            "duplicate-id",
            "Managers who read",
            "first declared at line",
        ),
        (
            "catalog: sqlite:///.quanta/catalog.db",
            "catalog: postgresql://quanta:s3cret@db/quanta",
            "secret-in-spec",
            "postgresql://",
            "QUANTA_CATALOG",
        ),
        ("kind: Mesh", "kind: Mash", "wrong-kind", "kind: Mash", ""),
        ("apiVersion: quanta/v1", "apiVersion: quanta/v2", "unsupported-api-version", "apiVersion", ""),
    ],
)
def test_mesh_mistake_is_located(mesh_dir: Path, old: str, new: str, code: str, needle: str, hint: str) -> None:
    _edit(mesh_dir, old, new)
    report = Mesh.validate(mesh_dir)
    found = [d for d in report.errors if d.code == code]
    assert found, [d.render() for d in report.diagnostics]
    assert found[-1].location.path == "demo/mesh.yaml"
    assert found[-1].location.line == _line_of(mesh_dir, needle)
    assert hint in found[-1].hint


def test_products_pattern_matching_nothing_is_a_warning(mesh_dir: Path) -> None:
    _edit(
        mesh_dir,
        "products: [products/**/dataproduct.yaml]",
        "products: [products/**/dataproduct.yaml, extra/**/dataproduct.yaml]",
    )
    report = Mesh.validate(mesh_dir)
    assert report.ok
    (warning,) = report.warnings
    assert (warning.code, warning.severity, warning.field) == ("no-products", Severity.WARNING, "products[1]")


def test_unloadable_product_is_not_reported_again_as_unknown(mesh_dir: Path) -> None:
    spec = mesh_dir / "products/sales/orders/dataproduct.yaml"
    spec.write_text(spec.read_text().replace("version: 1.0.0", "version: one"))
    report = Mesh.validate(mesh_dir)
    assert [d.code for d in report.errors] == ["invalid-value"]


def test_two_majors_of_one_product_are_allowed(mesh_dir: Path) -> None:
    folder = mesh_dir / "products/sales/orders-v2"
    folder.mkdir()
    source = mesh_dir / "products/sales/orders"
    (folder / "orders.sql").write_text((source / "orders.sql").read_text())
    (folder / "dataproduct.yaml").write_text((source / "dataproduct.yaml").read_text().replace("1.0.0", "2.0.0"))
    report = Mesh.validate(mesh_dir)
    assert report.ok, [d.render() for d in report.diagnostics]
    assert len(report.source.products) == 3 if report.source else False


def test_cycle_between_two_products(mesh_dir: Path) -> None:
    spec = mesh_dir / "products/sales/orders/dataproduct.yaml"
    spec.write_text(
        spec.read_text().replace(
            "inputs:\n", "inputs:\n  - {id: back, type: product, product: sales.daily-revenue, major: 1}\n"
        )
    )
    report = Mesh.validate(mesh_dir)
    (cycle,) = [d for d in report.errors if d.code == "dependency-cycle"]
    assert "sales.orders@v1" in cycle.message and "sales.daily-revenue@v1" in cycle.message
