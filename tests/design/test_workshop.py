"""A scripted workshop from `quanta init`: use case 1 (CRM weekly CLV report), then use case 2
(upsell recommendations) overlaid — generalising Customer-Marketing 360 before adding products."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quanta.cli.main import app
from quanta.design.overlay import overlay
from quanta.project import Mesh

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def workshop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    run("init", "fashion")
    m = ["--mesh", "fashion"]
    for domain in ("customer", "customer-relations", "after-sales", "merchandising", "marketing"):
        run("design", "domain", domain, *m)
    run("design", "system", "crm", "--domain", "customer", "--description", "Customer relationship management.", *m)
    run("design", "system", "ecommerce", "--domain", "sales", *m)
    run("design", "system", "returns-system", "--domain", "after-sales", *m)
    run("design", "system", "pim", "--domain", "merchandising", *m)
    # use case 1, worked backwards
    run(
        "design",
        "use-case",
        "clv-weekly-report",
        "--persona",
        "customer relationship manager",
        "--domain",
        "customer-relations",
        "--statement",
        "As a customer relationship manager, I need timely reports on our most and least valuable customers.",
        "--product",
        "customer-lifetime-value",
        "--port",
        "weekly-report",
        "--access",
        "report",
        *m,
    )
    run(
        "design",
        "product",
        "customer-lifetime-value",
        "-u",
        "clv-weekly-report",
        "-d",
        "Delivers a predicted customer lifetime value with a suggested next best action.",
        "-i",
        "product:customer-marketing-360",
        "-i",
        "product:historical-purchases",
        "-i",
        "product:returns",
        "-p",
        "customer_id:string:Registered customer.",
        "-p",
        "clv_12m:number",
        "-p",
        "next_best_action:string",
        *m,
    )
    run(
        "design",
        "product",
        "customer-marketing-360",
        "-u",
        "clv-weekly-report",
        "-d",
        "One row per registered customer with profile and marketing aggregates.",
        "-i",
        "system:crm:customers",
        "-p",
        "customer_id:string",
        "-p",
        "email:string",
        *m,
    )
    run(
        "design",
        "product",
        "historical-purchases",
        "-u",
        "clv-weekly-report",
        "-d",
        "One row per purchased order line.",
        "-i",
        "system:ecommerce:orders",
        "-p",
        "order_line_id:string",
        "-p",
        "customer_id:string",
        *m,
    )
    run(
        "design",
        "product",
        "returns",
        "-u",
        "clv-weekly-report",
        "-d",
        "Customer-initiated returns of order lines.",
        "-i",
        "system:returns-system:returns",
        "-p",
        "return_id:string",
        *m,
    )
    # use case 2, overlaid: generalise first, add only what is missing
    run(
        "design",
        "use-case",
        "upsell-recommendations",
        "--persona",
        "marketing backend team",
        "--domain",
        "marketing",
        "--statement",
        "As the marketing backend team, I need upsell recommendations.",
        "--product",
        "product-recommendations",
        "--port",
        "api",
        "--access",
        "rest",
        *m,
    )
    run("design", "generalise", "customer-marketing-360", "-u", "upsell-recommendations", "-p", "gender:string", *m)
    run(
        "design",
        "product",
        "products",
        "-u",
        "upsell-recommendations",
        "-d",
        "Every sellable item.",
        "-i",
        "system:pim:catalogue",
        "-p",
        "sku:string",
        *m,
    )
    run(
        "design",
        "product",
        "product-recommendations",
        "-u",
        "upsell-recommendations",
        "-d",
        "Top-N products per customer with a score and a reason.",
        "-i",
        "product:customer-marketing-360",
        "-i",
        "product:historical-purchases",
        "-i",
        "product:products",
        "-p",
        "customer_id:string",
        "-p",
        "sku:string",
        "-p",
        "score:number",
        *m,
    )
    return tmp_path / "fashion"


def test_overlay_of_the_two_use_cases(workshop: Path) -> None:
    steps = {s.use_case: s for s in overlay(Mesh.load(workshop).source)}
    first = steps["clv-weekly-report"]
    assert first.added == ["customer-lifetime-value", "customer-marketing-360", "historical-purchases", "returns"]
    second = steps["upsell-recommendations"]
    assert second.added == ["product-recommendations", "products"]
    assert second.generalised == {"customer-marketing-360": ["property gender"]}
    assert second.reused == ["historical-purchases"]
    table = run("design", "overlay", "--mesh", str(workshop), "--maps", str(workshop / "steps"))
    assert sorted(p.name for p in (workshop / "steps").iterdir())[-2:] == [
        "step-3-upsell-recommendations.mmd",
        "step-3-upsell-recommendations.svg",
    ]
    assert "gender" in table and "products" in table


def test_ports_follow_the_use_cases(workshop: Path) -> None:
    mesh = Mesh.load(workshop)
    clv = mesh.product("customer-lifetime-value").spec
    assert [(o.id, o.type, o.introduced_by) for o in clv.outputs] == [("weekly-report", "report", "clv-weekly-report")]
    recommendations = mesh.product("product-recommendations").spec
    assert [(o.id, o.type) for o in recommendations.outputs] == [("api", "rest")]


def test_assign_is_single_owner_and_promote_needs_a_domain(workshop: Path) -> None:
    m = ["--mesh", str(workshop)]
    failed = runner.invoke(app, ["design", "promote", "returns", *m])
    assert failed.exit_code == 1
    run("design", "assign", "returns", "after-sales", *m)
    twice = runner.invoke(app, ["design", "assign", "returns", "sales", *m])
    assert twice.exit_code == 1
    run("design", "assign", "returns", "sales", "--transfer", *m)
    run("design", "promote", "returns", *m)
    assert Mesh.load(workshop).product("sales.returns").spec.status == "draft"


def test_ownership_assistant_ranks_by_sources_and_consumers(workshop: Path) -> None:
    from quanta.design.ownership import rank_owners

    mesh = Mesh.load(workshop)
    ranked = rank_owners(mesh.source, mesh.product("customer-marketing-360"))
    assert ranked[0].domain == "customer" and "owns source system crm" in ranked[0].reasons
    clv = rank_owners(mesh.source, mesh.product("customer-lifetime-value"))
    assert clv[0].domain == "customer-relations"


def test_edits_keep_comments(workshop: Path) -> None:
    text = (workshop / "mesh.yaml").read_text()
    assert text.startswith("# A Quanta mesh: platform defaults")
    assert "upsell-recommendations" in text


def test_edits_leave_no_trailing_spaces_and_fold_long_statements(workshop: Path) -> None:
    statement = " ".join(["As a merchandiser, I need return rates by product, category and size"] * 4) + "."
    run(
        "design",
        "use-case",
        "return-rates",
        "--persona",
        "merchandiser",
        "--domain",
        "merchandising",
        "--statement",
        statement,
        "--mesh",
        str(workshop),
    )
    text = (workshop / "mesh.yaml").read_text()
    assert [line for line in text.splitlines() if line != line.rstrip()] == []
    assert max(len(line) for line in text.splitlines() if "merchandiser, I need" in line) <= 110
    (case,) = [u for u in Mesh.load(workshop).source.spec.use_cases if u.id == "return-rates"]
    assert case.statement == statement


def test_map_formats(workshop: Path, tmp_path: Path) -> None:
    m = ["--mesh", str(workshop)]
    mermaid = run("design", "map", *m)
    assert mermaid.startswith("flowchart LR")
    data = json.loads(run("design", "map", "--format", "json", "--use-case", "upsell-recommendations", *m))
    highlighted = {n["id"] for n in data["nodes"] if n["highlighted"]}
    assert "product:product-recommendations" in highlighted and "system:pim" in highlighted
    assert "product:returns" not in highlighted
    run("design", "map", "--format", "png", "-o", str(tmp_path / "map.png"), *m)
    assert (tmp_path / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_workshop_mesh_validates_with_design_warnings(workshop: Path) -> None:
    result = runner.invoke(app, ["design", "check", "--mesh", str(workshop)])
    assert result.exit_code == 0, result.output
    assert "missing-domain" in result.output  # stubs still without an owner are warnings


def test_scaffold_turns_draft_products_into_code_that_validates(workshop: Path) -> None:
    m = ["--mesh", str(workshop)]
    for name, domain in (
        ("customer-marketing-360", "customer"),
        ("historical-purchases", "sales"),
        ("returns", "after-sales"),
        ("customer-lifetime-value", "customer-relations"),
    ):
        run("design", "assign", name, domain, *m)
        run("design", "promote", name, *m)
    out = run("design", "scaffold", *m)
    assert "scaffolded customer-relations.customer-lifetime-value" in out
    folder = workshop / "products/proposed/customer-lifetime-value"
    sql = (folder / "customer_lifetime_value.sql").read_text()
    assert "customer_marketing_360.customer_id as customer_id" in sql
    assert "cast(null as DOUBLE) as clv_12m" in sql
    assert (folder / "weekly-report.html.j2").exists() and (folder / "test_customer_lifetime_value.py").exists()
    report = Mesh.validate(workshop)
    assert report.ok, [d.render() for d in report.errors]
    clv = Mesh.load(workshop).product("customer-relations.customer-lifetime-value").spec
    assert clv.transform is not None and clv.transform.type == "sql"
    test = subprocess_pytest(folder / "test_customer_lifetime_value.py")
    assert test.returncode == 0, test.stdout


def subprocess_pytest(path: Path):  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_workshop_report_has_every_section_and_the_map(workshop: Path, tmp_path: Path) -> None:
    out = run("design", "report", "--mesh", str(workshop), "-o", str(tmp_path / "report"))
    assert "workshop.html" in out
    markdown = (tmp_path / "report/workshop.md").read_text()
    for heading in (
        "## Use cases",
        "## Interaction map",
        "## Overlay",
        "## Products",
        "## Domains",
        "## Service level objectives",
        "## Open findings",
        "### Step 3: upsell-recommendations",
    ):
        assert heading in markdown, heading
    assert "```mermaid\nflowchart LR" in markdown
    assert "customer-marketing-360 (+property gender)" in markdown
    assert "`missing-domain`" in markdown
    html = (tmp_path / "report/workshop.html").read_text()
    assert (
        html.count("<svg") == 4
        and "<script" not in html
        and "http" not in html.replace("http://www.w3.org/2000/svg", "")
    )
    import xml.etree.ElementTree as ET

    for svg in html.split("<svg")[1:]:
        ET.fromstring("<svg" + svg.split("</svg>")[0] + "</svg>")
