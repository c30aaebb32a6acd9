"""The fashion-retail source products build from generated systems of record and fix exactly the
defects the generator lists in its manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from quanta.examples.fashion_retail import COUNTRIES, COUNTRY_DIRT, Settings, generate
from quanta.project import Mesh

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fashion-retail"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Mesh, dict, dict]:
    root = tmp_path_factory.mktemp("fashion") / "fashion-retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".quanta", "systems"))
    summary = generate(root / "systems", Settings(scale=0.01, seed=5))
    defects = json.loads((root / "systems" / "defects.json").read_text())
    mesh = Mesh.load(root)
    report = mesh.build()
    assert {o.key: o.status for o in report.outcomes} == {
        "merchandising.products@v1": "built",
        "sales.historical-purchases@v1": "built",
        "after-sales.returns@v1": "built",
        "customer.customer-marketing-360@v1": "built",
        "customer-relations.customer-lifetime-value@v1": "built",
    }, report.outcomes
    return mesh, summary, defects


def test_duplicate_order_lines_are_removed(built: tuple[Mesh, dict, dict]) -> None:
    mesh, summary, defects = built
    assert defects["duplicate_order_lines"]
    rows = mesh.query("select count(*) as n, count(distinct order_line_id) as d from sales.historical_purchases")
    assert rows.to_pylist() == [{"n": summary["orderLines"], "d": summary["orderLines"]}]


def test_late_returns_are_excluded_and_the_rest_kept(built: tuple[Mesh, dict, dict]) -> None:
    mesh, summary, defects = built
    kept = {r["return_id"] for r in mesh.query("select return_id from after_sales.returns").to_pylist()}
    assert defects["late_returns"] and not kept & set(defects["late_returns"])
    assert len(kept) == summary["returns"] - len(defects["late_returns"])


def test_country_codes_are_normalised(built: tuple[Mesh, dict, dict]) -> None:
    mesh, _, defects = built
    truth = {dirty: code for code, variants in COUNTRY_DIRT.items() for dirty in variants}
    countries = {
        r["customer_id"]: r["country"]
        for r in mesh.query("select customer_id, country from customer.customer_marketing_360").to_pylist()
    }
    assert set(countries.values()) <= set(COUNTRIES)
    assert defects["inconsistent_country_codes"]
    for customer, raw in defects["inconsistent_country_codes"].items():
        assert countries[customer] == truth[raw]


def test_missing_phones_stay_missing_and_are_measured(built: tuple[Mesh, dict, dict]) -> None:
    mesh, _, defects = built
    missing = {
        r["customer_id"]
        for r in mesh.query("select customer_id from customer.customer_marketing_360 where phone is null").to_pylist()
    }
    assert missing == set(defects["missing_phones"])
    slis = {s.check_id: s for s in mesh.workspace.catalog.slis("customer.customer-marketing-360@v1")}
    assert slis["completeness:phone"].status == "passed"  # 95% present against a 90% objective


def test_every_implied_check_holds(built: tuple[Mesh, dict, dict]) -> None:
    mesh, _, _ = built
    for product in mesh.source.products:
        failing = [s.check_id for s in mesh.workspace.catalog.slis(product.spec.key) if s.status in ("failed", "error")]
        assert failing == [], product.spec.key


def test_customer_lifetime_value(built: tuple[Mesh, dict, dict]) -> None:
    mesh, _, _ = built
    rows = mesh.query(
        "select value_segment, count(*) as n from customer_relations.customer_lifetime_value group by all"
    ).to_pylist()
    assert {r["value_segment"]: r["n"] for r in rows} == {"top": 50, "high": 150, "medium": 300, "low": 500}
    odd = mesh.query("""select count(*) as n from customer_relations.customer_lifetime_value
        where (value_segment in ('top', 'high') and next_best_action not in ('retain-vip', 'win-back'))
           or (value_segment = 'medium' and next_best_action <> 'nurture')
           or (value_segment = 'low' and next_best_action <> 'no-action')
           or (next_best_action = 'retain-vip' and p_alive <= 0.5)""").to_pylist()
    assert odd == [{"n": 0}]
    from quanta.storage import SnapshotLocation

    snapshot = mesh.workspace.catalog.current("customer-relations.customer-lifetime-value@v1")
    assert snapshot is not None
    manifest = mesh.workspace.store.manifest(
        SnapshotLocation("customer-relations", "customer-lifetime-value", 1), snapshot.id
    )
    fitted = manifest["artefacts"]["bgnbd"]
    assert all(fitted[k] > 0 for k in ("r", "alpha", "a", "b")) and manifest["artefacts"]["customers"] == 1000
    emails = mesh.query("select email from customer_relations.customer_lifetime_value limit 1").to_pylist()
    assert emails == [{"email": "***"}]  # classified: masked unless unmasked
