"""The decision matrix replayed on the report port over HTTP: every (principal, product, report)
case of ``decision_matrix`` read through a real server on loopback, as HTML and as PDF, shows the
reader's own figures (computed from the source CSV, and equal to what the read path gives that
reader), or 403 where the read path refuses; plus the route's formats, errors, ETags, renderings
kept with their snapshots, templates from the published descriptor, and scheduled renders."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from decision_matrix import CASES, PRINCIPALS, Case, build_matrix_mesh, enrol, normalised, report_figures
from quanta.errors import AccessDenied
from serving_mesh import Served, build, serving

REPORT_CASES = [c for c in CASES if c.port_type == "report"]
REVENUE = "/api/v1/products/sales/daily-revenue/v1"
URL = REVENUE + "/reports/report"


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("matrix-report")
    root = build_matrix_mesh(base / "matrix")
    spec = root / "products/sales/daily-revenue/dataproduct.yaml"  # a weekly schedule, long past in the tests
    spec.write_text(spec.read_text().replace("formats: [html, pdf]}", 'formats: [html, pdf], schedule: "0 7 * * 1"}'))
    build(root)  # a spec edit that shapes no data: a new descriptor, no new snapshot
    with serving(root, base / "cache", enrol=enrol) as running:
        yield running


class Spans(HTMLParser):
    """The text of each element with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str] = {}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open = dict(attrs).get("id")

    def handle_data(self, data: str) -> None:
        if self._open:
            self.found[self._open] = self.found.get(self._open, "") + data

    def handle_endtag(self, tag: str) -> None:
        self._open = None


def html_figures(body: str) -> dict[str, str]:
    parser = Spans()
    parser.feed(body)
    return parser.found


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def read_path_figures(served: Served, case: Case) -> dict[str, str]:
    """The figures of this case's rows as the read path gives them (not through the report)."""
    principal = served.platform.authenticate(served.tokens[case.principal])
    rows = normalised(served.platform.plane.table(principal, case.product, case.port).to_pylist())
    orders = sum(int(r["orders"]) for r in rows)
    return {
        "days": str(len(rows)),
        "orders": f"{orders:,}",
        "revenue": f"{sum(float(r['revenue']) for r in rows):,.2f}",
    }


def test_the_replay_covers_allowed_and_refused_reports() -> None:
    assert {c.allowed for c in REPORT_CASES} == {True, False}
    assert {c.principal for c in REPORT_CASES if c.allowed} == {"owner", "admin", "manager"}


@pytest.mark.parametrize("file_format", ["html", "pdf"])
@pytest.mark.parametrize("case", REPORT_CASES, ids=lambda c: c.id)
def test_reports_show_the_readers_figures_or_are_refused(matrix: Served, case: Case, file_format: str) -> None:
    with matrix.client(case.principal) as client:
        response = client.get(URL, params={"format": file_format})
    if not case.allowed:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert f"no grant gives {case.principal} access to port 'report'" in response.json()["detail"]
        with pytest.raises(AccessDenied):
            read_path_figures(matrix, case)
        return
    assert response.status_code == 200, response.text
    current = matrix.platform.catalog.snapshots.current("sales.daily-revenue@v1")
    assert current is not None and response.headers["x-quanta-snapshot"] == current.id
    expected = report_figures(case, matrix.root)
    assert read_path_figures(matrix, case) == expected
    if file_format == "html":
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        found = html_figures(response.text)
        assert {k: found[k] for k in expected} == expected and found["snapshot"] == current.id
    else:
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
        text = pdf_text(response.content)
        for label, key in (("Days", "days"), ("Orders", "orders"), ("Revenue", "revenue")):
            assert f"{label}: {expected[key]}" in text, text
        assert current.id in text


def test_a_row_filtered_reader_gets_its_own_figures_rendered_from_the_descriptor(matrix: Served) -> None:
    """A catalog grant of the report to analyst (country FR) with the spec's row filter: its report
    holds FR's figures only; the template is moved out of the product folder first, so the server
    can only have rendered from the published descriptor."""
    from quanta.spec.policy import Grant

    template = matrix.root / "products/sales/daily-revenue/report.html.j2"
    aside = template.with_name("moved-away.txt")
    shutil.move(template, aside)
    grant = matrix.platform.grant(
        "sales.daily-revenue",
        Grant.model_validate(
            {"principal": "analyst", "ports": ["report"], "rowFilter": "country = :principal.country"}
        ),
    )
    try:
        with matrix.client("analyst") as client:
            html = client.get(URL)
            pdf = client.get(URL, headers={"Accept": "application/pdf"})
        assert html.status_code == pdf.status_code == 200, (html.text, pdf.text)
        case = Case("analyst", "sales.daily-revenue", "report", True, country="FR")
        expected = report_figures(case, matrix.root)
        everything = report_figures(Case("manager", "sales.daily-revenue", "report", True), matrix.root)
        assert expected != everything and int(expected["days"]) > 0
        found = html_figures(html.text)
        assert {k: found[k] for k in expected} == expected
        assert pdf.headers["content-type"] == "application/pdf"
        assert f"Revenue: {expected['revenue']}" in pdf_text(pdf.content)
    finally:
        matrix.platform.revoke_grant(grant.id)
        shutil.move(aside, template)
    with matrix.client("analyst") as client:
        assert client.get(URL).status_code == 403


def test_renderings_are_kept_with_their_snapshot_and_revalidate(matrix: Served) -> None:
    with matrix.client("manager") as client:
        first = client.get(URL, params={"format": "pdf"})
        again = client.get(URL, params={"format": "pdf"}, headers={"If-None-Match": first.headers["etag"]})
        other = client.get(URL, params={"format": "html"})
    assert first.status_code == 200 and again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"] != other.headers["etag"]
    with matrix.client("owner") as client:  # the same rows, masks and template: the same rendering
        owner = client.get(URL, params={"format": "pdf"})
    assert owner.content == first.content and owner.headers["x-quanta-sha256"] == first.headers["x-quanta-sha256"]
    current = matrix.platform.catalog.snapshots.current("sales.daily-revenue@v1")
    kept = matrix.platform.catalog.reports.renders("sales.daily-revenue@v1", "report")
    pdfs = [r for r in kept if r.sha256 == first.headers["x-quanta-sha256"]]
    assert len(pdfs) == 1 and pdfs[0].content == first.content and pdfs[0].format == "pdf"
    assert current is not None and pdfs[0].snapshot_id == current.id and pdfs[0].previous_id is None
    assert pdfs[0].descriptor_id == matrix.platform.catalog.products.entry("sales.daily-revenue@v1").descriptor_id


@pytest.mark.parametrize(
    ("path", "params", "headers", "status", "text"),
    [
        (URL, {"format": "csv"}, {}, 400, "offers html, pdf, not 'csv'"),
        (URL, {"limit": "3"}, {}, 400, "'limit' does not apply to a report"),
        (URL, {}, {"Accept": "image/png"}, 406, "accepts none of them"),
        (URL, {"snapshot": "nope"}, {}, 404, "no published snapshot nope"),
        (REVENUE + "/reports/table", {}, {}, 404, "no report port 'table'"),
        (REVENUE + "/reports/nothing", {}, {}, 404, "no report port 'nothing'; its reports: report"),
        ("/api/v1/products/sales/orders/v1/reports/report", {}, {}, 404, "declares no report port"),
    ],
)
def test_report_errors_are_problems(
    matrix: Served, path: str, params: dict[str, str], headers: dict[str, str], status: int, text: str
) -> None:
    with matrix.client("manager", **headers) as client:
        response = client.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert text in response.json()["detail"]


def test_accept_picks_a_format_the_port_offers(matrix: Served) -> None:
    with matrix.client("manager") as client:
        assert client.get(URL).headers["content-type"].startswith("text/html")  # the port's first
        pdf = client.get(URL, headers={"Accept": "application/pdf, text/html;q=0.5"})
        html = client.get(URL, headers={"Accept": "text/html, application/pdf;q=0.5"})
        anything = client.get(URL, headers={"Accept": "*/*"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert html.headers["content-type"].startswith("text/html")
    assert anything.headers["content-type"].startswith("text/html")
    with matrix.client() as anonymous:
        assert anonymous.get(URL).status_code == 401


def test_a_scheduled_tick_renders_once_as_the_owner_and_names_the_granted(matrix: Served) -> None:
    """Two schedulers (as two processes would) with the same clock, a Monday 07:10 long past: the
    07:00 tick is rendered once, as the owning team, and the event names exactly the principals the
    port is granted to; a tick older than the misfire window is not rendered."""
    from quanta.ports.reports import ReportPort
    from quanta.project.report_schedule import EVENT, ReportScheduler

    plane = matrix.platform.plane
    monday = datetime(2026, 11, 30, 7, 10, tzinfo=UTC)
    first = ReportScheduler(plane, ReportPort(plane), clock=lambda: monday, name="a")
    second = ReportScheduler(plane, ReportPort(plane), clock=lambda: monday, name="b")
    done = first.run_due() + second.run_due() + first.run_due()
    assert len(done) == 1 and done[0].error is None
    tick = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    (claim,) = [t for t in plane.catalog.reports.ticks("sales.daily-revenue@v1", "report") if t.tick == tick]
    assert claim.claimed_by == "a" and claim.finished_at is not None and len(claim.renders) == 2
    events = [e for e in plane.catalog.events.find(kind=EVENT) if e.data["tick"] == tick.isoformat()]
    assert len(events) == 1
    granted = {c.principal for c in REPORT_CASES if c.allowed and not PRINCIPALS[c.principal].get("admin")}
    assert sorted(events[0].data["recipients"]) == sorted(granted) == ["manager", "owner"]
    assert events[0].data["url"] == URL and events[0].data["formats"] == ["html", "pdf"]
    kept = {r.id: r for r in plane.catalog.reports.renders("sales.daily-revenue@v1", "report")}
    expected = report_figures(Case("owner", "sales.daily-revenue", "report", True), matrix.root)
    (html,) = [kept[i] for i in claim.renders if kept[i].format == "html"]
    assert {k: html_figures(html.content.decode())[k] for k in expected} == expected
    late = ReportScheduler(plane, ReportPort(plane), clock=lambda: datetime(2026, 12, 7, 8, 30, tzinfo=UTC))
    assert late.run_due() == []  # the 07:00 tick is 90 minutes old: missed, not rendered late
