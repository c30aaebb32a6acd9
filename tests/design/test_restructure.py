"""No workshop step needs hand-edited YAML: rename and remove (with what depends on it shown first),
deprecate, business keys, and `quanta init --empty`; every edit keeps comments and has a --dry-run."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from quanta.cli.main import app
from quanta.errors import QuantaError, SpecError
from quanta.project import Mesh

runner = CliRunner()


def run(*args: str, input: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def refused(*args: str) -> str:
    """The located refusal a command ends in (exit 1)."""
    result = runner.invoke(app, list(args))
    assert isinstance(result.exception, SpecError), result.output
    assert result.exception.exit_code == 1
    return "\n".join(d.render() for d in result.exception.diagnostics)


def snapshot(root: Path) -> dict[str, bytes]:
    files = (p for p in sorted(root.rglob("*")) if p.is_file() and ".quanta" not in p.relative_to(root).parts)
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The init mesh with a second use case worked backwards to three proposed products."""
    monkeypatch.chdir(tmp_path)
    run("init", "shop")
    m = ("--mesh", "shop")
    run("design", "domain", "customer", *m)
    run("design", "system", "crm", "--domain", "customer", *m)
    statement = "As a marketer, I need the value of each customer."
    for case, product in (("clv", "customer-value"), ("churn", "customers")):
        run(
            "design", "use-case", case, "--persona", "marketer", "--domain", "sales", "--statement", statement,
            "--product", product, "--port", "table", "--access", "sql", *m,
        )  # fmt: skip
    run(
        "design", "product", "customer-value", "-u", "clv", "-d", "Predicted value per registered customer.",
        "-i", "product:customers", "-i", "product:sales.orders", "-p", "customer_id:string", "-p", "value:number", *m,
    )  # fmt: skip
    run(
        "design", "product", "customers", "-u", "clv", "-d", "One row per registered customer.",
        "-i", "system:crm:customers", "-p", "customer_id:string", "-p", "email:string", *m,
    )  # fmt: skip
    run("design", "generalise", "customers", "-u", "churn", "-p", "churned:boolean", *m)
    mesh = tmp_path / "shop" / "mesh.yaml"
    mesh.write_text(mesh.read_text().replace("domains:\n", "domains:  # who owns what\n", 1))
    return tmp_path / "shop"


def test_rename_a_product_follows_every_reference_and_moves_its_folder(shop: Path) -> None:
    before = snapshot(shop)
    diff = run("design", "rename", "product", "customers", "customer-profiles", "--mesh", str(shop), "--dry-run")
    assert "-  - {id: customers, type: product, product: customers, major: 1}" in diff
    assert "+  - {id: customers, type: product, product: customer-profiles, major: 1}" in diff
    assert "move products/proposed/customers/ → products/proposed/customer-profiles/" in diff
    assert snapshot(shop) == before
    run("design", "rename", "product", "customers", "customer-profiles", "--mesh", str(shop))
    assert not (shop / "products/proposed/customers").exists()
    mesh = Mesh.load(shop)
    assert mesh.product("customer-profiles").path == shop / "products/proposed/customer-profiles/dataproduct.yaml"
    value = mesh.product("customer-value").spec
    assert [i.options.product for i in value.inputs if i.type == "product"] == ["customer-profiles", "sales.orders"]
    assert "domains:  # who owns what" in (shop / "mesh.yaml").read_text()  # comments stay


def test_rename_a_domain_moves_its_products_and_their_references(shop: Path) -> None:
    run("design", "rename", "domain", "sales", "commerce", "--mesh", str(shop))
    mesh = Mesh.load(shop)
    assert Mesh.validate(shop).ok
    orders = mesh.product("commerce.orders")
    assert orders.path == shop / "products/commerce/orders/dataproduct.yaml"
    assert [i.options.product for i in mesh.product("commerce.daily-revenue").spec.inputs] == ["commerce.orders"]
    assert {u.domain for u in mesh.source.spec.use_cases} == {"commerce"}
    assert mesh.source.spec.business_keys[0].owner == "commerce.orders"
    assert [s.domain for s in mesh.source.spec.systems if s.name == "webshop"] == ["commerce"]
    text = (shop / "products/commerce/orders/dataproduct.yaml").read_text()
    assert "domain: commerce" in text


def test_rename_a_use_case_and_a_system(shop: Path) -> None:
    run("design", "rename", "use-case", "churn", "churn-alerts", "--mesh", str(shop))
    run("design", "rename", "system", "crm", "crm-cloud", "--mesh", str(shop))
    mesh = Mesh.load(shop)
    customers = mesh.product("customers").spec
    assert [p.introduced_by for p in customers.schema_.properties if p.name == "churned"] == ["churn-alerts"]
    assert [i.options.system for i in customers.inputs] == ["crm-cloud"]
    assert "crm-cloud" in {s.name for s in mesh.source.spec.systems}
    assert Mesh.validate(shop).ok


def test_rename_refusals_are_located_and_change_nothing(shop: Path) -> None:
    before = snapshot(shop)
    m = ("--mesh", str(shop))
    assert "error[unknown-product]" in refused("design", "rename", "product", "customer", "x", *m)
    assert "error[invalid-value] NEW: 'Customer Profiles'" in refused(
        "design", "rename", "product", "customers", "Customer Profiles", *m
    )
    assert "error[duplicate-id] NEW: domain 'customer' already exists" in refused(
        "design", "rename", "domain", "sales", "customer", *m
    )
    assert "error[unknown-use-case]" in refused("design", "rename", "use-case", "chrun", "x", *m)
    assert snapshot(shop) == before


def test_remove_shows_its_dependents_and_asks_first(shop: Path) -> None:
    m = ("--mesh", str(shop))
    before = snapshot(shop)
    declined = runner.invoke(app, ["design", "remove", "product", "customers", *m], input="n\n")
    assert declined.exit_code == 1
    assert "product customer-value: input customers reads it" in declined.output
    assert "nothing removed" in declined.output and snapshot(shop) == before
    closed = runner.invoke(app, ["design", "remove", "product", "customers", *m], input="")  # no answer at all
    assert closed.exit_code == 1 and snapshot(shop) == before
    diff = run("design", "remove", "product", "customers", *m, "--dry-run")
    assert "remove products/proposed/customers/" in diff and snapshot(shop) == before
    run("design", "remove", "product", "customers", *m, input="y\n")
    mesh = Mesh.load(shop)
    assert not (shop / "products/proposed/customers").exists()
    assert [i.id for i in mesh.product("customer-value").spec.inputs] == ["orders"]


def test_remove_a_consumed_product_drops_the_use_case_consumption(shop: Path) -> None:
    m = ("--mesh", str(shop))
    out = run("design", "remove", "product", "sales.daily-revenue", "--yes", *m)
    assert "use case daily-revenue-report: consumes it through port table" in out
    case = next(u for u in Mesh.load(shop).source.spec.use_cases if u.id == "daily-revenue-report")
    assert case.consumes == []
    assert Mesh.validate(shop).ok


def test_remove_refuses_a_key_owner_and_a_domain_that_owns_things(shop: Path) -> None:
    m = ("--mesh", str(shop))
    before = snapshot(shop)
    owner = refused("design", "remove", "product", "sales.orders", "--yes", *m)
    assert "mesh.yaml:" in owner and "owns business key order_id" in owner and "quanta design key order_id" in owner
    domain = refused("design", "remove", "domain", "customer", *m)
    assert "domain customer still owns system crm" in domain
    assert snapshot(shop) == before


def test_remove_a_use_case_and_a_system(shop: Path) -> None:
    m = ("--mesh", str(shop))
    out = run("design", "remove", "use-case", "churn", "--yes", *m)
    assert "product customers: churned loses its introducedBy" in out
    out = run("design", "remove", "system", "crm", "--yes", *m)
    assert "customers: input crm-customers reads it" in out
    mesh = Mesh.load(shop)
    assert [u.id for u in mesh.source.spec.use_cases] == ["daily-revenue-report", "clv"]
    assert mesh.product("customers").spec.inputs == [] and Mesh.validate(shop).ok


@pytest.mark.slow
def test_a_published_product_is_deprecated_not_removed_or_renamed(shop: Path) -> None:
    m = ("--mesh", str(shop))
    for product in ("customers", "customer-value"):
        run("design", "remove", "product", product, "--yes", *m)
    run("build", "shop")
    before = snapshot(shop)
    removal = refused("design", "remove", "product", "sales.daily-revenue", "--yes", *m)
    assert "products/sales/daily-revenue/dataproduct.yaml:3:7: error[design-conflict]" in removal
    assert "has published snapshots" in removal and "quanta design deprecate sales.daily-revenue" in removal
    assert "published snapshots" in refused("design", "rename", "product", "sales.daily-revenue", "revenue", *m)
    assert "published snapshots" in refused("design", "rename", "domain", "sales", "commerce", *m)
    assert snapshot(shop) == before
    run("design", "deprecate", "sales.daily-revenue", *m)
    assert Mesh.load(shop).product("sales.daily-revenue").spec.status == "deprecated"


def test_business_keys_fix_the_missing_shared_key_warnings(shop: Path) -> None:
    m = ("--mesh", str(shop))
    warned = runner.invoke(app, ["design", "check", *m])
    assert warned.output.count("missing-shared-key") == 1
    assert "quanta design key <key> --owner <product> --on sales.orders --on customers" in " ".join(
        warned.output.split()
    )
    before = snapshot(shop)
    diff = run("design", "key", "customer_id", "--owner", "customers", "--on", "customer-value", *m, "--dry-run")
    assert "+  - name: customer_id\n+    logicalType: string\n+    owner: customers" in diff
    assert "+    - {name: customer_id, logicalType: string, businessKey: customer_id}" in diff
    assert snapshot(shop) == before
    run("design", "key", "customer_id", "--owner", "customers", "--on", "customer-value", *m)
    run("design", "key", "customer_id", "--on", "sales.orders:customer_id", "--description", "Registered customer.", *m)
    mesh = Mesh.load(shop)
    glossary = {k.name: k for k in mesh.source.spec.business_keys}
    assert glossary["customer_id"].owner == "customers" and glossary["customer_id"].description == (
        "Registered customer."
    )
    carriers = {
        (p.spec.ref, prop.name) for p in mesh.source.products for prop in p.spec.schema_.properties if prop.business_key
    }
    assert {
        ("customers", "customer_id"),
        ("customer-value", "customer_id"),
        ("sales.orders", "customer_id"),
    } <= carriers
    checked = runner.invoke(app, ["design", "check", *m])
    assert "missing-shared-key" not in checked.output and "0 error(s)" in checked.output
    assert "domains:  # who owns what" in (shop / "mesh.yaml").read_text()


def test_business_key_refusals(shop: Path) -> None:
    m = ("--mesh", str(shop))
    before = snapshot(shop)
    assert "error[missing-field] --owner: business key customer_id is not in the glossary" in refused(
        "design", "key", "customer_id", "--on", "customers", *m
    )
    missing = refused("design", "key", "customer_id", "--owner", "customers", "--on", "sales.daily-revenue", *m)
    assert "error[unknown-property] --on: sales.daily-revenue has no property customer_id" in missing
    assert "quanta design generalise sales.daily-revenue" in missing
    typed = refused("design", "key", "order_id", "--on", "customer-value:value", *m)
    assert "error[business-key-type] --on: customer-value's value is number but business key order_id is string" in (
        typed
    )
    assert "error[invalid-value] NAME: 'Customer Id'" in refused("design", "key", "Customer Id", *m)
    assert snapshot(shop) == before


def test_init_empty_is_a_mesh_without_products(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = run("init", "workshop", "--empty")
    assert "next: quanta design domain" in out
    root = tmp_path / "workshop"
    assert [p.name for p in root.rglob("*") if p.is_file()] == ["mesh.yaml"]
    report = Mesh.validate(root)
    assert report.ok and report.source is not None and report.source.products == []
    run("design", "domain", "sales", "--mesh", "workshop")
    assert "domains:\n  - {name: sales}\nroles: []" in (root / "mesh.yaml").read_text()
    assert (root / "mesh.yaml").read_text().startswith("# A Quanta mesh")


def test_a_broken_mesh_is_refused_not_edited(shop: Path) -> None:
    (shop / "mesh.yaml").write_text((shop / "mesh.yaml").read_text().replace("kind: Mesh", "kind: Mesh\nkind: X"))
    result = runner.invoke(app, ["design", "rename", "use-case", "clv", "value", "--mesh", str(shop)])
    assert isinstance(result.exception, QuantaError) and result.exception.exit_code == 1
    assert isinstance(result.exception, SpecError)
    assert [d.code for d in result.exception.diagnostics] == ["duplicate-key"]
