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
        "marketing.product-recommendations@v1": "built",
        "merchandising.return-rates@v1": "built",
        "merchandising.weekly-sku-sales@v1": "built",
    }, report.outcomes
    return mesh, summary, defects


def test_two_builds_of_the_same_inputs_have_the_same_content(built: tuple[Mesh, dict, dict], tmp_path: Path) -> None:
    """No tie is broken at random: identical inputs give identical snapshots, so an upstream rebuilt
    with identical content stops the cascade."""
    mesh, _, _ = built
    again = tmp_path / "fashion-retail"
    shutil.copytree(mesh.source.root, again, ignore=shutil.ignore_patterns(".quanta"))
    second = Mesh.load(again)
    assert all(o.status == "built" for o in second.build().outcomes)
    keys = sorted(p.spec.key for p in mesh.source.products)
    hashes = [{key: m.workspace.catalog.snapshots.current(key).content_hash for key in keys} for m in (mesh, second)]  # type: ignore[union-attr]
    assert len(keys) == 8 and hashes[0] == hashes[1]


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
    slis = {s.check_id: s for s in mesh.workspace.catalog.slis.of("customer.customer-marketing-360@v1")}
    assert slis["completeness:phone"].status == "passed"  # 95% present against a 90% objective


def test_every_implied_check_holds(built: tuple[Mesh, dict, dict]) -> None:
    mesh, _, _ = built
    for product in mesh.source.products:
        failing = [
            s.check_id for s in mesh.workspace.catalog.slis.of(product.spec.key) if s.status in ("failed", "error")
        ]
        assert failing == [], product.spec.key


def test_customer_lifetime_value(built: tuple[Mesh, dict, dict]) -> None:
    mesh, _, _ = built
    rows = mesh.query(
        "select value_segment, count(*) as n from customer_relations.customer_lifetime_value group by all"
    ).to_pylist()
    assert {r["value_segment"]: r["n"] for r in rows} == {"top": 50, "high": 150, "medium": 300, "low": 500}
    odd = mesh.query("""select count(*) as n from customer_relations.customer_lifetime_value
        where (next_best_action = 'retain-vip') <> (value_segment in ('top', 'high') and p_alive > 0.5)
           or (value_segment in ('top', 'high') and p_alive <= 0.5 and next_best_action <> 'win-back')
           or (next_best_action = 'win-back' and p_alive > 0.5)
           or (next_best_action = 'nurture' and value_segment <> 'medium')
           or (next_best_action = 'no-action' and value_segment <> 'low')""").to_pylist()
    assert odd == [{"n": 0}]
    stages = mesh.query("""select count(*) filter (where lifecycle = 'one-off' and orders <> 1) as one_off,
        count(*) filter (where lifecycle = 'lapsed' and (orders < 2 or p_alive > 0.5)) as lapsed,
        count(*) filter (where lifecycle = 'active' and (orders < 2 or p_alive <= 0.5)) as active,
        count(*) filter (where lifecycle = 'new' and first_order_at < (select max(last_order_at) from
            customer_relations.customer_lifetime_value) - interval 13 week) as new,
        count(*) filter (where net_spend > orders * 10000 or last_order_at < first_order_at) as history
        from customer_relations.customer_lifetime_value""").to_pylist()
    assert stages == [{"one_off": 0, "lapsed": 0, "active": 0, "new": 0, "history": 0}]
    from quanta.storage import SnapshotLocation

    snapshot = mesh.workspace.catalog.snapshots.current("customer-relations.customer-lifetime-value@v1")
    assert snapshot is not None
    manifest = mesh.workspace.store.manifest(
        SnapshotLocation("customer-relations", "customer-lifetime-value", 1), snapshot.id
    )
    fitted = manifest["artefacts"]["bgnbd"]
    assert all(fitted[k] > 0 for k in ("r", "alpha", "a", "b")) and manifest["artefacts"]["customers"] == 1000
    emails = mesh.query("select email from customer_relations.customer_lifetime_value limit 1").to_pylist()
    assert emails == [{"email": "***"}]  # classified: masked unless unmasked


def manifest_of(mesh: Mesh, key: str) -> dict:
    from quanta.storage import SnapshotLocation

    snapshot = mesh.workspace.catalog.snapshots.current(key)
    assert snapshot is not None
    domain, rest = key.split(".", 1)
    name, major = rest.split("@v")
    return mesh.workspace.store.manifest(SnapshotLocation(domain, name, int(major)), snapshot.id)


def test_audience_segments_come_from_the_generalised_clv_product(built: tuple[Mesh, dict, dict]) -> None:
    mesh, _, _ = built
    mismatched = mesh.query("""select count(*) as n from customer_relations.customer_lifetime_value v
        join customer.customer_marketing_360 c using (customer_id)
        where v.gender <> c.gender or v.age_band <> c.age_band or v.country <> c.country
           or v.marketing_consent <> c.marketing_consent""").to_pylist()
    assert mismatched == [{"n": 0}]
    cells = mesh.query("""select value_segment, gender, age_band, country, count(*) as audience
        from customer_relations.customer_lifetime_value where marketing_consent
        group by all""").to_pylist()
    consenting = mesh.query("select count(*) as n from customer.customer_marketing_360 where marketing_consent")
    assert sum(c["audience"] for c in cells) == consenting.to_pylist()[0]["n"]


def test_recommendations_respect_history_gender_and_status(built: tuple[Mesh, dict, dict]) -> None:
    mesh, summary, _ = built
    per_customer = mesh.query("""select count(distinct customer_id) as customers, max(n) as most, min(n) as least
        from (select customer_id, count(*) as n from marketing.product_recommendations group by all)""").to_pylist()
    assert per_customer == [{"customers": summary["customers"], "most": 10, "least": 10}]
    bought = mesh.query("""select count(*) as n from marketing.product_recommendations r
        join sales.historical_purchases p using (customer_id, sku)""").to_pylist()
    returned = mesh.query("""select count(*) as n from marketing.product_recommendations r
        join after_sales.returns x using (sku) join sales.historical_purchases p
          on p.order_line_id = x.order_line_id and p.customer_id = r.customer_id""").to_pylist()
    wrong = mesh.query("""select count(*) as n from marketing.product_recommendations r
        join merchandising.products i using (sku) join customer.customer_marketing_360 c using (customer_id)
        where i.status <> 'active' or (c.gender = 'F' and i.target_gender = 'M')
           or (c.gender = 'M' and i.target_gender = 'F')""").to_pylist()
    assert bought == returned == wrong == [{"n": 0}]
    explained = mesh.query("""select count(*) filter (where reason like 'bought with SKU-%') as co,
        count(*) filter (where reason = 'popular') as popular,
        count(*) filter (where reason like 'bought with %' and score = 0 or reason = 'popular' and score > 0) as odd
        from marketing.product_recommendations""").to_pylist()[0]
    assert explained["co"] > explained["popular"] > 0 and explained["odd"] == 0
    evaluation = manifest_of(mesh, "marketing.product-recommendations@v1")["artefacts"]["evaluation"]
    assert evaluation["customers"] > 0 and 0 <= evaluation["mostPopularHitRateAt10"] <= 1
    assert evaluation["lift"] == round(evaluation["hitRateAt10"] / evaluation["mostPopularHitRateAt10"], 3)


def test_return_rates_pool_units_over_items(built: tuple[Mesh, dict, dict]) -> None:
    mesh, _, _ = built
    totals = mesh.query("""select sum(units_sold) as sold, sum(units_returned) as returned
        from merchandising.return_rates""").to_pylist()
    truth = mesh.query("""select (select sum(quantity) from sales.historical_purchases) as sold,
        (select sum(quantity) from after_sales.returns) as returned""").to_pylist()
    assert totals == truth
    by_category = mesh.query("""select category, any_value(category_return_rate) as rate,
        round(sum(units_returned) / sum(units_sold), 4) as pooled, count(distinct category_return_rate) as rates
        from merchandising.return_rates group by all""").to_pylist()
    assert all(r["rate"] == r["pooled"] and r["rates"] == 1 for r in by_category)
    rates = {r["category"]: r["rate"] for r in by_category}
    assert rates["dresses"] > rates["shirts"] > rates["accessories"]  # the generator's category effect


def test_weekly_sku_sales_grid_averages_and_last_year(built: tuple[Mesh, dict, dict]) -> None:
    mesh, _, _ = built
    sums = mesh.query("""select sum(units) as units, round(sum(net_revenue), 0) as net
        from merchandising.weekly_sku_sales""").to_pylist()
    truth = mesh.query("""select sum(p.quantity) as units,
        round(sum(p.amount) - coalesce(sum(r.quantity * p.unit_price), 0), 0) as net
        from sales.historical_purchases p left join after_sales.returns r using (order_line_id)""").to_pylist()
    assert sums == truth
    shape = mesh.query("""select count(distinct sku) as skus, count(distinct week) as weeks, count(*) as n,
        count(*) filter (where dayofweek(week) <> 1) as not_monday from merchandising.weekly_sku_sales""").to_pylist()[
        0
    ]
    assert shape["n"] == shape["skus"] * shape["weeks"] and shape["not_monday"] == 0
    sku = mesh.query("""select sku from merchandising.weekly_sku_sales group by sku order by sum(units) desc, sku
        limit 1""").to_pylist()[0]["sku"]
    weeks = mesh.query(f"""select units, units_4w_avg, units_last_year from merchandising.weekly_sku_sales
        where sku = '{sku}' order by week""").to_pylist()
    units = [w["units"] for w in weeks]
    for i, week in enumerate(weeks):
        window = units[max(0, i - 3) : i + 1]
        assert week["units_4w_avg"] == round(sum(window) / len(window), 4)
        assert week["units_last_year"] == (units[i - 52] if i >= 52 else None)


def test_the_reference_policies_open_what_each_persona_needs_and_nothing_else(built: tuple[Mesh, dict, dict]) -> None:
    from quanta.access import Principal
    from quanta.errors import AccessDenied

    mesh, _, _ = built
    plane = mesh.platform.plane
    clv = "customer-relations.customer-lifetime-value"
    countries = {
        r["country"]: r["n"]
        for r in mesh.query(f"select country, count(*) as n from {clv.replace('-', '_')} group by all").to_pylist()
    }
    market = max(countries, key=lambda c: countries[c])
    crm = Principal("carla", frozenset({"crm-managers"}), {"country": market})
    rows = plane.table(crm, clv, "api").to_pylist()
    assert len(rows) == countries[market] and {r["country"] for r in rows} == {market}  # her own market
    assert {r["email"] for r in rows} <= {"***", None}  # pii stays masked
    assert plane.decide(crm, plane.product(clv), "weekly-report", None).allowed
    with pytest.raises(AccessDenied):
        plane.table(crm, clv, "table")
    backend = Principal("svc-marketing-backend")
    assert plane.table(backend, "marketing.product-recommendations", "api", limit=1).num_rows == 1
    with pytest.raises(AccessDenied):
        plane.table(backend, clv, "api")
    scientist = Principal("dan", frozenset({"data-scientists"}))
    people = plane.table(scientist, "customer.customer-marketing-360", "table").to_pylist()
    assert people and all(p["email"] in ("***", None) and p["birth_date"] is None for p in people)
    merchandiser = Principal("mia", frozenset({"merchandisers"}))
    assert plane.table(merchandiser, "merchandising.return-rates", "table", limit=1).num_rows == 1
    with pytest.raises(AccessDenied):
        plane.table(merchandiser, "customer.customer-marketing-360", "table")
