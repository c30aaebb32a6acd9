"""The whole four-product build on each catalog backend (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from four_mesh import FakeCrm, make_four_mesh
from helpers import build, read, statuses


def test_full_build_on_each_catalog(catalog_url: str, tmp_path: Path, crm: FakeCrm) -> None:
    mesh = make_four_mesh(tmp_path / "four", crm.url, catalog_url)
    assert set(statuses(build(mesh.root)).values()) == {"built"}
    assert set(statuses(build(mesh.root)).values()) == {"skipped"}
    assert len(read(mesh.root, "customer.customer-value")) == 8
    assert (mesh.root / ".quanta" / "catalog.db").exists() == catalog_url.startswith("sqlite")
