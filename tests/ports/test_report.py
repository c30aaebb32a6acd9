"""The CLV weekly report (the example's own template) rendered from a known small dataset, twice,
so that the change since the previous snapshot is known too; plus report port errors."""

from __future__ import annotations

import csv
import re
import shutil
from collections import Counter
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quanta.cli.main import app
from quanta.errors import QuantaError
from quanta.ports.report import ReportError
from quanta.project import Mesh

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fashion-retail"
TEMPLATE = EXAMPLE / "products/customer-relations/customer-lifetime-value/weekly.html.j2"
CLV = "customer-relations.customer-lifetime-value"
COLUMNS = [
    "customer_id", "email", "country", "orders", "net_spend", "first_order_at", "last_order_at", "lifecycle",
    "p_alive", "expected_purchases_12m", "clv_12m", "value_segment", "next_best_action",
]  # fmt: skip

MESH = """apiVersion: quanta/v1
kind: Mesh
name: report-test
platform: {engine: duckdb, storage: .quanta/warehouse, catalog: "sqlite:///.quanta/catalog.db"}
domains: [{name: customer-relations, team: crm-analytics}]
systems: [{name: scoring, domain: customer-relations}]
products: [products/**/dataproduct.yaml]
"""
PRODUCT = """apiVersion: quanta/v1
kind: DataProduct
name: customer-lifetime-value
domain: customer-relations
version: 1.0.0
team: {name: crm-analytics}
description: Known customer values for the report test.
inputs: [{id: scores, type: files, path: systems/scores.csv, format: csv, system: scoring}]
transform: {type: sql, steps: [clv.sql]}
schema:
  properties:
    - {name: customer_id, logicalType: string, primaryKey: true}
    - {name: email, logicalType: string, classification: pii}
    - {name: country, logicalType: string}
    - {name: orders, logicalType: integer}
    - {name: net_spend, logicalType: number}
    - {name: first_order_at, logicalType: timestamp}
    - {name: last_order_at, logicalType: timestamp}
    - {name: lifecycle, logicalType: string}
    - {name: p_alive, logicalType: number}
    - {name: expected_purchases_12m, logicalType: number}
    - {name: clv_12m, logicalType: number}
    - {name: value_segment, logicalType: string}
    - {name: next_best_action, logicalType: string}
outputs:
  - {id: table, type: sql}
  - {id: weekly-report, type: report, template: weekly.html.j2, formats: [html, pdf]}
  - {id: html-only, type: report, template: weekly.html.j2}
"""

SEGMENT_ACTION = {"top": "retain-vip", "high": "win-back", "medium": "nurture", "low": "no-action"}


AS_OF = datetime(2025, 6, 30)
NEW = {"C0000009", "C0000011"}  # first ordered 3 weeks before the newest order


def week(values: dict[str, float]) -> list[dict[str, object]]:
    """Rows for customers with the given CLVs: top 1, high 2, medium 3, rest low (by value). The one
    ranked n-th ordered n times (the first the newest order of all, n weeks ago for the others) and
    has P(alive) 0.9 - 0.05 n; lifecycle: new, else one-off for one order, else lapsed or active."""
    ranked = sorted(values, key=lambda c: (-values[c], c))
    rows = []
    for position, customer in enumerate(ranked):
        segment = "top" if position < 1 else "high" if position < 3 else "medium" if position < 6 else "low"
        orders, alive = [3, 2, 4, 1, 2, 3, 1, 2, 5, 1][position], 0.9 - position * 0.05
        first = AS_OF - timedelta(weeks=3 if customer in NEW else 60 + int(customer[1:]))
        lifecycle = "new" if customer in NEW else "one-off" if orders == 1 else "lapsed" if alive <= 0.5 else "active"
        rows.append({
            "customer_id": customer,
            "email": f"{customer.lower()}@example.com",
            "country": "FR" if position % 2 else "DE",
            "orders": orders,
            "net_spend": 50.0 * orders,
            "first_order_at": first,
            "last_order_at": first if orders == 1 else max(first, AS_OF - timedelta(weeks=position)),
            "lifecycle": lifecycle,
            "p_alive": alive,
            "expected_purchases_12m": 2.5,
            "clv_12m": values[customer],
            "value_segment": segment,
            "next_best_action": SEGMENT_ACTION[segment],
        })  # fmt: skip
    return rows


FIRST = week({f"C{i:07d}": v for i, v in enumerate([900, 40, 300, 250, 120, 80, 60, 20, 10, 5], 1)})
SECOND = week({
    **{f"C{i:07d}": v for i, v in enumerate([500, 40, 300, 950, 120, 80, 60, 20, 10], 1)},  # C0000010 gone
    "C0000011": 70.0,  # new
})  # fmt: skip


class Figures(HTMLParser):
    """Collects ``data-value`` by element id and, per table id, the cells of rows keyed by ``data-key``."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.tables: dict[str, dict[str, list[str]]] = {}
        self.deltas: list[str] = []
        self.urls: list[str] = []
        self._table: str | None = None
        self._row: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.urls += [v for k, v in attrs if k in ("src", "href") and v and not v.startswith("#")]
        if tag in ("script", "link", "img", "iframe"):
            self.urls.append(f"<{tag}>")
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table or ""] = {}
        elif tag == "tr" and self._table:
            self._row = a.get("data-key")
            if self._row:
                self.tables[self._table][self._row] = []
        elif tag == "td" and self._table and self._row and "data-value" in a:
            self.tables[self._table][self._row].append(a["data-value"] or "")
        if "id" in a and "data-value" in a:
            self.values[a["id"] or ""] = a["data-value"] or ""
        if "data-delta" in a:
            self.deltas.append(a["data-delta"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None


@pytest.fixture
def mesh(tmp_path: Path) -> Mesh:
    root = tmp_path / "mesh"
    folder = root / "products/customer-relations/customer-lifetime-value"
    folder.mkdir(parents=True)
    (root / "mesh.yaml").write_text(MESH)
    (folder / "dataproduct.yaml").write_text(PRODUCT)
    (folder / "clv.sql").write_text(f"select {', '.join(COLUMNS)} from scores order by customer_id")
    shutil.copy(TEMPLATE, folder / "weekly.html.j2")
    return Mesh.load(root)


def publish(mesh: Mesh, rows: list[dict[str, object]]) -> None:
    (mesh.source.root / "systems").mkdir(exist_ok=True)
    with (mesh.source.root / "systems/scores.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    report = mesh.build()
    assert [o.status for o in report.outcomes] == ["built"], report.outcomes


def figures(path: Path) -> Figures:
    parser = Figures()
    parser.feed(path.read_text())
    return parser


def test_first_report_has_the_figures_and_no_comparison(mesh: Mesh, tmp_path: Path) -> None:
    publish(mesh, FIRST)
    path = mesh.report(CLV, "weekly-report", out=tmp_path / "first.html")
    found = figures(path)
    html = path.read_text()
    assert 'id="first-snapshot"' in html and 'id="previous-snapshot"' not in html
    assert found.deltas == [] and 'id="movements"' not in html
    assert int(found.values["kpi-customers"]) == 10
    assert float(found.values["kpi-value"]) == pytest.approx(sum(r["clv_12m"] for r in FIRST))  # type: ignore[misc]
    assert float(found.values["kpi-top-share"]) == pytest.approx(900 / 1785)
    counts = Counter(r["value_segment"] for r in FIRST)
    assert {k: int(v[0]) for k, v in found.tables["segments"].items()} == counts
    assert list(found.tables["segments"]) == ["top", "high", "medium", "low"]
    most = list(found.tables["most-valuable"])
    assert most == [r["customer_id"] for r in sorted(FIRST, key=lambda r: -r["clv_12m"])]  # type: ignore[operator]
    assert list(found.tables["least-valuable"]) == most[::-1]
    rows = {r["customer_id"]: r for r in FIRST}
    assert {c: v[0] for c, v in found.tables["least-valuable"].items()} == {c: rows[c]["lifecycle"] for c in rows}
    for customer, row in rows.items():  # each least valuable customer says who they are
        weeks_last = (AS_OF - row["last_order_at"]).days // 7  # type: ignore[operator]
        weeks_first = (AS_OF - row["first_order_at"]).days // 7  # type: ignore[operator]
        expected = {
            "new": f"new: first order {weeks_first} weeks ago",
            "one-off": f"one order, {weeks_last} weeks ago",
            "lapsed": f"lapsed: {row['orders']} orders, the last {weeks_last} weeks ago",
            "active": f"active: {row['orders']} orders, the last {weeks_last} weeks ago",
        }[str(row["lifecycle"])]
        assert re.search(rf'<td>{customer}</td>\s*<td data-value="{row["lifecycle"]}">{expected}</td>', html)
    low = Counter(r["lifecycle"] for r in FIRST if r["value_segment"] == "low")
    assert {k: int(v[0]) for k, v in found.tables["low-lifecycle"].items()} == low and len(low) > 1
    actions = Counter(r["next_best_action"] for r in FIRST)
    assert {k: int(v[0]) for k, v in found.tables["actions"].items()} == actions
    assert html.count("<svg") == 2 and found.urls == []  # self-contained: charts inline, nothing fetched
    assert "@example.com" not in html  # classified contact details never reach the report


def test_second_report_shows_the_change_since_the_previous_snapshot(mesh: Mesh, tmp_path: Path) -> None:
    publish(mesh, FIRST)
    first = mesh.workspace.catalog.snapshots.current(f"{CLV}@v1")
    publish(mesh, SECOND)
    path = mesh.report(CLV, "weekly-report", out=tmp_path / "second.html")
    found = figures(path)
    assert first is not None and f'id="previous-snapshot">{first.id}<' in path.read_text()
    was = {r["customer_id"]: r for r in FIRST}
    moved = [(was[r["customer_id"]]["value_segment"], r["value_segment"]) for r in SECOND if r["customer_id"] in was]
    moved = [(a, b) for a, b in moved if a != b]
    assert len(moved) == 3  # C0000001 top → high, C0000004 high → top, C0000007 medium → low
    segments = found.tables["segments"]
    assert {k: int(v[2]) for k, v in segments.items()} == {s: sum(b == s for _, b in moved) for s in segments}
    assert {k: int(v[3]) for k, v in segments.items()} == {s: sum(a == s for a, _ in moved) for s in segments}
    assert found.values["moved-customers"] == "3"
    falls = {}
    for row in SECOND:  # valuable last week, and P(alive) or value fell: the larger relative fall
        before = was.get(str(row["customer_id"]))
        if before and before["value_segment"] in ("top", "high"):
            fall = max(1 - row["p_alive"] / before["p_alive"], 1 - row["clv_12m"] / before["clv_12m"])  # type: ignore[operator]
            if fall > 0:
                falls[row["customer_id"]] = fall
    at_risk = {k: float(v[0]) for k, v in found.tables["at-risk"].items()}
    assert list(at_risk) == sorted(falls, key=lambda c: -falls[c]) == ["C0000001", "C0000003"]
    assert at_risk == pytest.approx(falls)
    assert found.values["new-customers"] == "1" and found.values["gone-customers"] == "1"
    assert found.values["entered-top"] == "1" and found.values["left-top"] == "1"  # C0000004 replaced C0000001
    total = sum(float(r["clv_12m"]) for r in SECOND) - sum(float(r["clv_12m"]) for r in FIRST)  # type: ignore[arg-type]
    assert [float(d) for d in found.deltas] == pytest.approx([0, total])  # customers, then value
    changes = {k: float(v[0]) for k, v in found.tables["biggest-changes"].items()}
    assert changes == {"C0000004": 700.0, "C0000001": -400.0}
    assert list(changes) == ["C0000004", "C0000001"]  # biggest change first


def test_the_cli_writes_the_report_and_names_it(mesh: Mesh, tmp_path: Path) -> None:
    publish(mesh, FIRST)
    record = mesh.workspace.catalog.snapshots.current(f"{CLV}@v1")
    assert record is not None
    default = mesh.report(CLV, "weekly-report")
    assert default == mesh.source.root / ".quanta/reports" / f"{CLV}-weekly-report-{record.id}.html"
    assert mesh.report(CLV, "weekly-report", out=tmp_path) == tmp_path / default.name
    out = tmp_path / "cli.html"
    result = CliRunner().invoke(
        app, ["report", CLV, "weekly-report", "--mesh", str(mesh.source.root), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and out.read_text().startswith("<!doctype html>")


def test_report_errors_name_the_port_or_the_template_line(mesh: Mesh) -> None:
    with pytest.raises(QuantaError, match="no published snapshot"):
        mesh.report(CLV, "weekly-report")
    publish(mesh, FIRST)
    with pytest.raises(QuantaError, match=r"no report port 'table'; its reports: weekly-report"):
        mesh.report(CLV, "table")
    template = mesh.product(CLV).folder / "weekly.html.j2"
    template.write_text(template.read_text().replace("from current", "from nowhere", 1))
    with pytest.raises(ReportError, match=r"weekly.html.j2: query failed: .*nowhere"):
        mesh.report(CLV, "weekly-report")
    template.write_text("<p>{{ sql('delete from current') }}</p>")
    with pytest.raises(ReportError, match="only a read-only query"):
        mesh.report(CLV, "weekly-report")
    template.write_text("<p>\n{{ no_such_thing.x }}</p>")
    with pytest.raises(ReportError, match=r"weekly.html.j2:2: 'no_such_thing' is undefined"):
        mesh.report(CLV, "weekly-report")


def test_charts_are_svg_with_text_as_paths() -> None:
    from quanta.ports.charts import bar_chart

    svg = bar_chart(["a", "b"], [1200.0, 30.0], title="T")
    assert svg.startswith("<svg") and "<text" not in svg and re.search(r"<path", svg)
    assert bar_chart(["a", "b"], [1200.0, 30.0], title="T") == svg  # deterministic


def test_templates_bind_query_parameters_and_see_artefacts(mesh: Mesh, tmp_path: Path) -> None:
    publish(mesh, FIRST)
    template = mesh.product(CLV).folder / "weekly.html.j2"
    template.write_text(
        "{% for r in sql('select customer_id from current where value_segment = $s order by 1', s=segment) %}"
        "<i>{{ r.customer_id }}</i>{% endfor %}|{{ artefacts | length }}|{{ previous is none }}|{{ 0.256 | pct }}"
        "|{{ none | eur }}|{{ 1234.5 | eur(1) }}|{{ -3 | signed }}"
    )
    template.write_text(template.read_text().replace("segment)", "'high')"))
    html = mesh.report(CLV, "weekly-report", out=tmp_path / "p.html").read_text()
    high = sorted(r["customer_id"] for r in FIRST if r["value_segment"] == "high")
    assert html == "".join(f"<i>{c}</i>" for c in high) + "|0|True|25.6%|\u2013|€1,234.5|-3"


def test_templates_run_sandboxed(mesh: Mesh) -> None:
    publish(mesh, FIRST)
    template = mesh.product(CLV).folder / "weekly.html.j2"
    template.write_text("{{ sql.__globals__ }}")
    with pytest.raises(ReportError, match="unsafe"):
        mesh.report(CLV, "weekly-report")


def pdf_text(content: bytes) -> str:
    """The text of every page of a PDF (it must open)."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) >= 1
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_opens_and_holds_the_reports_figures(mesh: Mesh, tmp_path: Path) -> None:
    publish(mesh, FIRST)
    path = mesh.report(CLV, "weekly-report", out=tmp_path, file_format="pdf")
    record = mesh.workspace.catalog.snapshots.current(f"{CLV}@v1")
    assert record is not None and path == tmp_path / f"{CLV}-weekly-report-{record.id}.pdf"
    content = path.read_bytes()
    assert content.startswith(b"%PDF-")
    text = pdf_text(content)
    total = sum(float(r["clv_12m"]) for r in FIRST)  # type: ignore[arg-type]
    assert f"{total:,.0f}" in text and "1,785" in text  # the value KPI, from the rows written
    assert record.id in text
    for customer in (r["customer_id"] for r in FIRST):  # every customer is listed by value
        assert str(customer) in text
    assert "@example.com" not in text  # classified contact details never reach the PDF either
    html = mesh.report(CLV, "weekly-report", out=tmp_path)
    assert html.suffix == ".html"  # the port's first format by default


def test_the_cli_renders_pdf_and_refuses_a_format_the_port_does_not_list(mesh: Mesh, tmp_path: Path) -> None:
    publish(mesh, FIRST)
    out = tmp_path / "cli.pdf"
    root = str(mesh.source.root)
    result = CliRunner().invoke(
        app, ["report", CLV, "weekly-report", "--mesh", root, "--format", "pdf", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-") and "10" in pdf_text(out.read_bytes())
    with pytest.raises(QuantaError, match="report port 'html-only' offers html, not 'pdf'"):
        mesh.report(CLV, "html-only", file_format="pdf")
    refused = CliRunner().invoke(app, ["report", CLV, "html-only", "--mesh", root, "--format", "pdf"])
    assert refused.exit_code != 0 and "offers html" in str(refused.exception)
