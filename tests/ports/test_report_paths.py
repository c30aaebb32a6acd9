"""Report templates and the templates they include resolve only inside the product folder: a
name or a symlink leading out is refused when rendering, publishing and validating."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from quanta.build.descriptor import served_files
from quanta.build.errors import BuildFailure
from quanta.errors import QuantaError
from quanta.ports.report import FolderTemplates, ReportError, ReportRequest, render_report
from quanta.project import Mesh

PRODUCT = "products/sales/daily-revenue"
SECRET = "the outside secret"


def _render(folder: Path, template: str) -> str:
    def query(sql: str, params: dict[str, Any] | None) -> list[dict[str, Any]]:
        return []

    snapshot = {"id": "s1", "rows": 0, "published_at": None, "artefacts": {}}
    templates = FolderTemplates(folder)
    request = ReportRequest(templates, template, {"ref": "sales.x"}, snapshot, None, datetime.now(UTC), query)
    return render_report(request)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """A product folder and, beside it, a file it must never read."""
    product = tmp_path / "product"
    product.mkdir()
    (tmp_path / "outside.html").write_text(SECRET)
    return product, tmp_path / "outside.html"


def test_includes_inside_the_folder_and_symlinks_within_it_render(folders: tuple[Path, Path]) -> None:
    product, _ = folders
    (product / "parts").mkdir()
    (product / "parts/footer.html").write_text("footer")
    (product / "footer-link.html").symlink_to(product / "parts/footer.html")
    (product / "report.html.j2").write_text("{% include 'parts/footer.html' %}+{% include 'footer-link.html' %}")
    assert _render(product, "report.html.j2") == "footer+footer"


@pytest.mark.parametrize("include", ["link.html", "sub/link.html"])
def test_an_include_through_a_symlink_leading_out_is_refused(folders: tuple[Path, Path], include: str) -> None:
    product, outside = folders
    (product / "sub").mkdir()
    (product / include).symlink_to(outside)
    (product / "report.html.j2").write_text(f"{{% include '{include}' %}}")
    with pytest.raises(ReportError, match=f"{include} leads outside the product folder"):
        _render(product, "report.html.j2")


def test_a_folder_symlink_leading_out_is_refused(folders: tuple[Path, Path]) -> None:
    product, outside = folders
    (product / "shared").symlink_to(outside.parent)
    (product / "report.html.j2").write_text("{% include 'shared/outside.html' %}")
    with pytest.raises(ReportError, match="leads outside the product folder"):
        _render(product, "report.html.j2")


def test_the_template_itself_may_not_be_a_symlink_out(folders: tuple[Path, Path]) -> None:
    product, outside = folders
    (product / "report.html.j2").symlink_to(outside)
    with pytest.raises(ReportError, match=r"report\.html\.j2 leads outside the product folder"):
        _render(product, "report.html.j2")


@pytest.mark.parametrize("name", ["../outside.html", "/etc/hostname", "sub/../../outside.html"])
def test_names_leading_out_are_not_found(folders: tuple[Path, Path], name: str) -> None:
    product, _ = folders
    (product / "report.html.j2").write_text(f"{{% include '{name}' %}}")
    with pytest.raises(ReportError, match="not found") as raised:
        _render(product, "report.html.j2")
    assert SECRET not in str(raised.value)


def test_a_fifo_included_is_not_read(folders: tuple[Path, Path]) -> None:
    product, _ = folders
    os.mkfifo(product / "pipe.html")
    (product / "report.html.j2").write_text("{% include 'pipe.html' %}")
    with pytest.raises(ReportError, match=r"pipe\.html not found"):
        _render(product, "report.html.j2")


def _with_report(mesh_dir: Path, template: str = "daily.html.j2") -> Path:
    spec = mesh_dir / PRODUCT / "dataproduct.yaml"
    spec.write_text(
        spec.read_text().replace(
            "  - {id: table, type: sql}",
            f"  - {{id: table, type: sql}}\n  - {{id: daily, type: report, template: '{template}'}}",
        )
    )
    return mesh_dir / PRODUCT


def test_publishing_refuses_an_include_leading_out(mesh_dir: Path) -> None:
    folder = _with_report(mesh_dir)
    (mesh_dir / "outside.html").write_text(SECRET)
    (folder / "link.html").symlink_to(mesh_dir / "outside.html")
    (folder / "daily.html.j2").write_text("{% include 'link.html' %}")
    product = Mesh.load(mesh_dir).product("sales.daily-revenue")
    with pytest.raises(BuildFailure, match=r"link\.html leads outside the product folder"):
        served_files(product)


@pytest.mark.parametrize("template", ["../../orders/orders.sql", "/etc/hostname", "link.html.j2"])
def test_validation_refuses_a_template_outside_the_product_folder(mesh_dir: Path, template: str) -> None:
    folder = _with_report(mesh_dir, template)
    (folder / "link.html.j2").symlink_to(mesh_dir / "mesh.yaml")
    report = Mesh.validate(mesh_dir)
    found = [(d.code, d.field, d.location.line) for d in report.diagnostics]
    assert found == [("file-outside-product", "outputs[1].template", 24)]
    with pytest.raises(QuantaError):
        Mesh.load(mesh_dir)
