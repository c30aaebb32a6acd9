"""Each design rule: a passing and a failing example, with exact locations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from quanta.design.rules import design_rules, job_description_findings
from quanta.errors import Diagnostic
from quanta.project import Mesh

ORDERS = "products/sales/orders/dataproduct.yaml"
REVENUE = "products/sales/daily-revenue/dataproduct.yaml"


def findings(mesh_dir: Path) -> list[Diagnostic]:
    report = Mesh.validate(mesh_dir)
    assert report.source is not None, [d.render() for d in report.diagnostics]
    return list(design_rules().run(report.source))


def edit(mesh_dir: Path, relative: str, old: str, new: str) -> None:
    path = mesh_dir / relative
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))


def line_of(mesh_dir: Path, relative: str, needle: str) -> int:
    return next(i for i, line in enumerate((mesh_dir / relative).read_text().splitlines(), 1) if needle in line)


def only(mesh_dir: Path, code: str) -> Diagnostic:
    (found,) = [d for d in findings(mesh_dir) if d.code == code]
    return found


def test_the_init_mesh_passes_every_design_rule(mesh_dir: Path) -> None:
    assert findings(mesh_dir) == []


@pytest.mark.parametrize(
    ("old", "new", "code", "needle"),
    [
        (
            "description: Every order placed in the web shop, one row per order, cleaned and typed.\n",
            "",
            "job-description-missing",
            "name: orders",
        ),
        (
            "cleaned and typed.",
            "cleaned and typed. It is great. It has many uses. It is used by analysts.",
            "job-description-long",
            "description:",
        ),
        (
            "cleaned and typed.",
            "cleaned and typed and enriched with customers and returns.",
            "job-description-concepts",
            "description:",
        ),
    ],
)
def test_job_description(mesh_dir: Path, old: str, new: str, code: str, needle: str) -> None:
    edit(mesh_dir, ORDERS, old, new)
    found = only(mesh_dir, code)
    assert found.location.path.endswith(ORDERS)
    assert found.location.line == line_of(mesh_dir, ORDERS, needle)


def test_use_case_must_trace_to_a_system(mesh_dir: Path) -> None:
    edit(mesh_dir, "mesh.yaml", "    consumes: [{product: sales.daily-revenue, port: table}]\n", "")
    found = only(mesh_dir, "use-case-untraced")
    assert (found.location.line, found.message) == (
        line_of(mesh_dir, "mesh.yaml", "- id: daily-revenue-report"),
        "use case 'daily-revenue-report' consumes no product",
    )


def test_unused_product(mesh_dir: Path) -> None:
    edit(
        mesh_dir,
        "mesh.yaml",
        "consumes: [{product: sales.daily-revenue, port: table}]",
        "consumes: [{product: sales.orders, port: table}]",
    )
    found = only(mesh_dir, "unused-product")
    assert found.location.path.endswith(REVENUE) and found.location.line == line_of(mesh_dir, REVENUE, "name:")


def test_joined_products_need_a_shared_business_key(mesh_dir: Path) -> None:
    folder = mesh_dir / "products/sales/targets"
    folder.mkdir()
    (folder / "dataproduct.yaml").write_text(
        "apiVersion: quanta/v1\nkind: DataProduct\nname: targets\ndomain: sales\nversion: 1.0.0\nstatus: proposed\n"
        "description: Monthly sales targets per country.\n"
        "schema:\n  properties:\n    - {name: country, logicalType: string}\n"
    )
    edit(
        mesh_dir,
        REVENUE,
        "  - {id: orders, type: product, product: sales.orders, major: 1}\n",
        "  - {id: orders, type: product, product: sales.orders, major: 1}\n"
        "  - {id: targets, type: product, product: sales.targets, major: 1}\n",
    )
    found = only(mesh_dir, "missing-shared-key")
    assert found.location.line == line_of(mesh_dir, REVENUE, "id: targets")
    edit(
        mesh_dir,
        "products/sales/targets/dataproduct.yaml",
        "{name: country, logicalType: string}",
        "{name: order_id, logicalType: string, businessKey: order_id}",
    )
    assert [d for d in findings(mesh_dir) if d.code == "missing-shared-key"] == []


def test_inputs_joined_through_another_input_need_no_direct_shared_key(mesh_dir: Path) -> None:
    mesh = (mesh_dir / "mesh.yaml").read_text()
    (mesh_dir / "mesh.yaml").write_text(
        mesh.replace(
            "businessKeys:\n",
            "businessKeys:\n  - {name: country, logicalType: string, owner: sales.targets, description: Country.}\n",
        )
    )
    for name, properties in (
        ("targets", "{name: country, logicalType: string, businessKey: country}"),
        (
            "order-countries",
            "{name: order_id, logicalType: string, businessKey: order_id}\n"
            "    - {name: country, logicalType: string, businessKey: country}",
        ),
    ):
        folder = mesh_dir / "products/sales" / name
        folder.mkdir()
        (folder / "dataproduct.yaml").write_text(
            f"apiVersion: quanta/v1\nkind: DataProduct\nname: {name}\ndomain: sales\nversion: 1.0.0\n"
            f"status: proposed\ndescription: A product.\nschema:\n  properties:\n    - {properties}\n"
        )
    inputs = "  - {id: orders, type: product, product: sales.orders, major: 1}\n"
    edit(mesh_dir, REVENUE, inputs, inputs + "  - {id: targets, type: product, product: sales.targets, major: 1}\n")
    (found,) = [d for d in findings(mesh_dir) if d.code == "missing-shared-key"]
    assert "sales.targets, which shares no business key with sales.orders" in found.message
    edit(
        mesh_dir,
        REVENUE,
        inputs,
        inputs + "  - {id: order-countries, type: product, product: sales.order-countries, major: 1}\n",
    )
    assert [d for d in findings(mesh_dir) if d.code == "missing-shared-key"] == []


def test_more_than_five_use_cases(mesh_dir: Path) -> None:
    extra = "".join(
        f"  - {{id: extra-{i}, persona: p, domain: sales, statement: s,\n"
        f"     consumes: [{{product: sales.daily-revenue, port: table}}]}}\n"
        for i in range(5)
    )
    edit(
        mesh_dir,
        "mesh.yaml",
        "products: [products/**/dataproduct.yaml]",
        extra.rstrip("\n") + "\nproducts: [products/**/dataproduct.yaml]",
    )
    found = only(mesh_dir, "too-many-use-cases")
    assert found.location.line == line_of(mesh_dir, "mesh.yaml", "id: extra-4")


def test_consumer_product_without_slos(mesh_dir: Path) -> None:
    edit(
        mesh_dir,
        REVENUE,
        "slos:\n  freshness: {maxAge: 2d}   # orders may be a day old when this builds, and it is rebuilt daily\n",
        "",
    )
    found = only(mesh_dir, "consumer-without-slos")
    assert found.location.path.endswith(REVENUE) and found.location.line == line_of(mesh_dir, REVENUE, "name:")


CORPUS = Path(__file__).parent / "fixtures" / "job_descriptions.yaml"


def _corpus() -> list[dict[str, Any]]:
    from ruamel.yaml import YAML

    cases: list[dict[str, Any]] = YAML(typ="safe").load(CORPUS.read_text(encoding="utf-8"))
    return cases


def test_the_labelled_corpus_is_large_and_balanced() -> None:
    cases = _corpus()
    assert len(cases) >= 30
    assert sum(1 for c in cases if not c["expect"]) >= 15  # good ones, short ones among them
    assert {code for c in cases for code in c["expect"]} == {
        "job-description-missing",
        "job-description-long",
        "job-description-vague",
        "job-description-concepts",
    }


@pytest.mark.parametrize("case", _corpus(), ids=lambda c: c["text"][:40] or "empty")
def test_every_labelled_job_description_is_classified_as_labelled(case: dict[str, Any]) -> None:
    found = sorted(code for code, _, _ in job_description_findings(case["text"]))
    assert found == sorted(case["expect"]), case["text"]


@pytest.mark.parametrize(
    ("description", "code"),
    [
        ("Customer data.", "job-description-vague"),
        ("Orders, customers, products, returns.", "job-description-concepts"),
    ],
)
def test_vague_and_list_descriptions_are_flagged_at_the_description(
    mesh_dir: Path, description: str, code: str
) -> None:
    edit(mesh_dir, ORDERS, "Every order placed in the web shop, one row per order, cleaned and typed.", description)
    found = only(mesh_dir, code)
    assert found.location.line == line_of(mesh_dir, ORDERS, "description:")
    assert found.severity.value == "warning"
