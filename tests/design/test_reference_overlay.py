"""The reference mesh retells the method: use case 1 brings Customer Lifetime Value and the three
source products it reads, use case 2 Product Recommendations and Products and generalises
Customer-Marketing 360 with gender, and each later use case generalises before it adds."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from quanta.cli.main import app
from quanta.design.overlay import compute_overlay
from quanta.project import Mesh

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fashion-retail"
CLV, CM360 = "customer-relations.customer-lifetime-value", "customer.customer-marketing-360"
PURCHASES, RETURNS = "sales.historical-purchases", "after-sales.returns"
RECOMMENDATIONS, PRODUCTS = "marketing.product-recommendations", "merchandising.products"


def edges(step: dict) -> set[tuple[str, str]]:
    return {(e["source"], e["target"]) for e in step["edges"]}


def test_use_cases_1_and_2_follow_the_method() -> None:
    steps = [s.to_dict() for s in compute_overlay(Mesh.load(EXAMPLE).source).steps]
    first, second = steps[0], steps[1]
    assert first["useCase"] == "clv-weekly-report"
    assert first["products"] == {"added": sorted([CLV, CM360, PURCHASES, RETURNS]), "generalised": {}, "reused": []}
    assert first["systems"] == {"added": ["crm", "ecommerce", "returns-system"], "reused": []}
    assert edges(first) == {
        ("use-case:clv-weekly-report", f"product:{CLV}"),
        (f"product:{CLV}", f"product:{CM360}"),
        (f"product:{CLV}", f"product:{PURCHASES}"),
        (f"product:{CLV}", f"product:{RETURNS}"),
        (f"product:{CM360}", "system:crm"),
        (f"product:{PURCHASES}", "system:ecommerce"),
        (f"product:{RETURNS}", "system:returns-system"),
    }
    assert second["useCase"] == "upsell-recommendations"
    assert second["products"] == {
        "added": [RECOMMENDATIONS, PRODUCTS],
        "generalised": {CM360: ["property gender"]},
        "reused": [PURCHASES],
    }
    assert second["systems"] == {"added": ["pim"], "reused": ["crm", "ecommerce"]}
    assert edges(second) == {
        ("use-case:upsell-recommendations", f"product:{RECOMMENDATIONS}"),
        (f"product:{RECOMMENDATIONS}", f"product:{CM360}"),
        (f"product:{RECOMMENDATIONS}", f"product:{PURCHASES}"),
        (f"product:{RECOMMENDATIONS}", f"product:{PRODUCTS}"),
        (f"product:{PRODUCTS}", "system:pim"),
    }
    products = {p for s in steps[:2] for p in s["products"]["added"]}
    systems = {p for s in steps[:2] for p in s["systems"]["added"]}
    assert (len(products), len(systems)) == (6, 4)


def test_the_later_use_cases_generalise_before_they_add() -> None:
    mesh = Mesh.load(EXAMPLE).source
    steps = compute_overlay(mesh).steps
    assert 3 <= len(steps) <= 5  # the method advises up to five
    assert all(step.generalised for step in steps[2:])
    assert [len(step.added) for step in steps[2:]] == [1, 0, 1]
    every_edge = [e for step in steps for e in step.edges]
    assert len(every_edge) == len(set(every_edge))  # every edge arrives exactly once ...
    from quanta.design.interaction import build_map

    assert set(every_edge) == set(build_map(mesh).edges)  # ... and all of them arrive


def test_cli_overlay_as_json_and_the_map_of_each_step(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["design", "overlay", "--mesh", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    expected = [s.to_dict() for s in compute_overlay(Mesh.load(EXAMPLE).source).steps]
    assert json.loads(result.output) == expected
    result = runner.invoke(
        app, ["design", "overlay", "--mesh", str(EXAMPLE), "--maps", str(tmp_path)], env={"COLUMNS": "240"}
    )
    assert result.exit_code == 0, result.output
    assert "1. clv-weekly-report" in result.output and "+ pim" in result.output
    first = (tmp_path / "step-1-clv-weekly-report.mmd").read_text()
    second = (tmp_path / "step-2-upsell-recommendations.mmd").read_text()
    assert "Customer Lifetime Value" in first and "Products" not in first and "pim" not in first  # not there yet
    assert '"Products"' in second and "Return Rates" not in second
    assert (tmp_path / "step-5-weekly-sku-sales.svg").read_text().startswith("<svg")


def test_design_md_shows_the_map_of_every_step() -> None:
    from quanta.design.mermaid import to_mermaid

    text = (EXAMPLE / "DESIGN.md").read_text()
    result = compute_overlay(Mesh.load(EXAMPLE).source)
    for index, step in enumerate(result.steps):
        block = f"<!-- map: step-{index + 1}-{step.use_case} -->\n```mermaid\n{to_mermaid(result.map_at(index))}```"
        assert block in text, f"DESIGN.md's map of step {index + 1} is out of date"
