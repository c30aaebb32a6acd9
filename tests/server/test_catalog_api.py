"""The catalog API over HTTP: search with facets, a product's page with this caller's ports and
snippets, schema, lineage, versions, SLO document and runs; a confidential product exists only
for those who may read it; rows never appear."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from quanta.catalog import PrincipalRecord
from quanta.project.catalog_api import schema_changes
from quanta.project.platform import Platform
from serving_mesh import PRINCIPALS, Served, build, serving, write_mesh

CATALOG = "/api/v1/catalog/products"
REVENUE = f"{CATALOG}/sales/daily-revenue/v1"
ORDERS = f"{CATALOG}/sales/orders/v1"


def _enrol(platform: Platform) -> dict[str, str]:
    tokens = {}
    for record in [*PRINCIPALS.values(), PrincipalRecord("stranger")]:
        platform.add_principal(record)
        tokens[record.id], _ = platform.create_token(record.id)
    return tokens


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("catalog-api")
    root = write_mesh(base / "demo")
    revenue = root / "products/sales/daily-revenue/dataproduct.yaml"
    revenue.write_text(revenue.read_text().replace("access:\n", "access:\n  confidential: true\n"))
    build(root)
    with serving(root, base / "cache", enrol=_enrol) as running:
        yield running


def test_search_finds_products_with_facets_and_each_hit_s_access(catalog: Served) -> None:
    with catalog.client("stranger") as client:
        found = client.get(CATALOG, params={"q": "orders"}).json()
    assert found["hits"][0]["key"] == "sales.orders@v1"
    assert found["hits"][0]["access"] == "requestable"  # visible so a stranger can ask for it
    assert found["hits"][0]["links"]["self"].endswith(ORDERS)
    assert set(found["facets"]) == {"domain", "tag", "status", "trust"}
    with catalog.client("ann") as client:
        mine = client.get(CATALOG, params={"q": "orders"}).json()
    assert mine["hits"][0]["access"] == "granted"


def test_a_confidential_product_is_hidden_from_those_who_may_read_none_of_its_ports(catalog: Served) -> None:
    with catalog.client("cleo") as client:
        everything = client.get(CATALOG).json()
        assert "sales.daily-revenue@v1" not in [h["key"] for h in everything["hits"]]
        assert everything["total"] == 1 and everything["facets"]["domain"] == {"sales": 1}
        assert client.get(CATALOG, params={"q": "revenue"}).json()["total"] == 0
        hidden = client.get(REVENUE)
        absent = client.get(f"{CATALOG}/sales/no-such-product/v1")
        assert hidden.status_code == absent.status_code == 404
        assert hidden.headers["content-type"].startswith("application/problem+json")
        assert hidden.json()["detail"].replace("daily-revenue", "X") == absent.json()["detail"].replace(
            "no-such-product", "X"
        )
        for aspect in ("schema", "lineage", "versions", "slo", "runs"):
            assert client.get(f"{REVENUE}/{aspect}").status_code == 404
        orders_page = client.get(ORDERS).json()
        assert "sales.daily-revenue@v1" not in orders_page["downstream"]
        assert "sales.daily-revenue@v1" not in client.get(f"{ORDERS}/lineage").json()["downstream"]
    with catalog.client("ann") as client:  # ann reads its api port
        assert client.get(REVENUE).status_code == 200
        assert "sales.daily-revenue@v1" in [
            h["key"] for h in client.get(CATALOG, params={"q": "revenue"}).json()["hits"]
        ]
        assert "sales.daily-revenue@v1" in client.get(ORDERS).json()["downstream"]
    with catalog.client("root") as client:
        assert client.get(CATALOG).json()["total"] == 2


def test_a_product_page_lists_ports_with_this_caller_s_access_and_snippets(catalog: Served) -> None:
    with catalog.client("ann") as client:
        response = client.get(ORDERS)
    page = response.json()
    assert page["key"] == "sales.orders@v1" and page["address"] == "quanta://sales/orders/v1"
    assert page["confidential"] is False and page["spec"]["name"] == "orders"
    ports = {p["id"]: p for p in page["outputs"]}
    assert ports["api"]["access"] == "granted" and ports["api"]["masked"] == ["customer_id"]
    assert ports["table"]["access"] == "requestable" and "snippets" not in ports["table"]
    curl = ports["api"]["snippets"]["curl"]
    assert "$QUANTA_TOKEN" in curl and f"{catalog.url}/api/v1/products/sales/orders/v1/rows" in curl
    assert ports["files"]["snippets"]["curl"].endswith('/files/files?format=parquet"')
    assert catalog.tokens["ann"] not in response.text  # a snippet never holds the caller's secret
    assert "sample" not in page and "c-1" not in response.text  # metadata only: no rows
    assert set(page["links"]) == {"self", "schema", "lineage", "versions", "slo", "runs"}


def test_schema_lineage_versions_slo_and_runs(catalog: Served) -> None:
    with catalog.client("ann") as client:
        schema = client.get(f"{REVENUE}/schema").json()
        lineage = client.get(f"{REVENUE}/lineage").json()
        versions = client.get(f"{ORDERS}/versions").json()
        slo = client.get(f"{ORDERS}/slo").json()
        runs = client.get(f"{ORDERS}/runs").json()
    current = catalog.platform.catalog.snapshots.current("sales.orders@v1")
    assert current is not None
    assert [p["name"] for p in schema["properties"]] == ["order_date", "country", "revenue", "orders"]
    assert schema["published"] is not None and schema["snapshot"]
    assert [u["product"] for u in lineage["upstream"]] == ["sales.orders@v1"]
    assert lineage["upstream"][0]["snapshot"] == current.id
    assert versions["versions"][0]["snapshot"] == current.id and versions["versions"][0]["rows"] == current.rows
    assert slo["schema"] == "quanta.slo-document/v1" and slo["key"] == "sales.orders@v1"
    assert runs["runs"] and runs["runs"][0]["status"] == "built" and runs["runs"][0]["snapshot"] == current.id


def test_the_catalog_api_needs_a_signed_in_caller_and_names_its_resources(catalog: Served) -> None:
    with catalog.client() as anonymous:
        assert anonymous.get(CATALOG).status_code == 401
        assert anonymous.get(ORDERS).status_code == 401
    with catalog.client("ann") as client:
        unknown = client.get(f"{ORDERS}/secrets")
        assert unknown.status_code == 404 and "schema" in unknown.json()["detail"]
        for bad in ({"limit": 0}, {"limit": "x"}, {"offset": -1}, {"sort": "name"}, {"q": "w" * 501}):
            refused = client.get(CATALOG, params=bad)
            assert refused.status_code == 400 and refused.json()["detail"], bad


def test_schema_changes_name_what_was_added_removed_and_retyped() -> None:
    before = [{"name": "a", "logicalType": "string"}, {"name": "b", "logicalType": "integer"}]
    after = [{"name": "b", "logicalType": "number"}, {"name": "c", "logicalType": "date"}]
    assert schema_changes(before, after) == [
        {"change": "removed", "property": "a"},
        {"change": "logicalType changed", "property": "b", "from": "integer", "to": "number"},
        {"change": "added", "property": "c", "logicalType": "date"},
    ]


ACCESS = "/api/v1/access"


def test_a_stranger_asks_for_access_an_admin_approves_and_the_grant_reads(catalog: Served) -> None:
    rows = "/api/v1/products/sales/orders/v1/rows"
    with catalog.client("stranger") as stranger, catalog.client("root") as root, catalog.client("ann") as ann:
        assert stranger.get(rows).status_code == 403
        asked = stranger.post(
            f"{ACCESS}/requests",
            json={"product": "sales.orders", "ports": ["api"], "purpose": "churn study", "days": 7},
        )
        assert asked.status_code == 201, asked.text
        request_id = asked.json()["id"]
        assert asked.json()["status"] == "pending"
        assert [r["id"] for r in stranger.get(f"{ACCESS}/requests").json()["mine"]] == [request_id]
        assert request_id in [r["id"] for r in root.get(f"{ACCESS}/requests").json()["toDecide"]]
        refused = ann.post(f"{ACCESS}/requests/{request_id}/approve", json={"note": "sure"})
        assert refused.status_code == 404 and refused.json()["detail"] == f"no access request {request_id}"  # not ann's
        assert stranger.post(f"{ACCESS}/requests/{request_id}/approve").status_code == 403  # not their own
        approved = root.post(f"{ACCESS}/requests/{request_id}/approve", json={"note": "for the study"})
        assert approved.status_code == 200 and approved.json()["status"] == "approved" and approved.json()["grant"]
        assert root.post(f"{ACCESS}/requests/{request_id}/reject").status_code == 409  # decided already
        assert stranger.get(rows, params={"limit": 5}).status_code == 200


def test_requests_are_refused_with_reasons(catalog: Served) -> None:
    with catalog.client("stranger") as stranger:
        hidden = stranger.post(
            f"{ACCESS}/requests", json={"product": "sales.daily-revenue", "ports": ["api"], "purpose": "x", "days": 1}
        )
        assert hidden.status_code == 404  # a confidential product it cannot see
        for body, status in [
            ({"product": "sales.orders", "ports": ["nope"], "purpose": "x", "days": 1}, 400),
            ({"product": "sales.orders", "ports": ["api"], "purpose": "x", "days": 0}, 400),
            ({"product": "sales.orders", "ports": [], "purpose": "x", "days": 1}, 400),
            ({"product": "sales.orders", "ports": ["api"], "purpose": "x", "days": 1, "admin": True}, 400),
        ]:
            answer = stranger.post(f"{ACCESS}/requests", json=body)
            assert answer.status_code == status and answer.json()["detail"], (body, answer.text)
        assert stranger.post(f"{ACCESS}/requests/999999/approve").status_code == 404


def test_principals_and_audit_are_for_admins_tokens_for_their_owner(catalog: Served) -> None:
    with catalog.client("stranger") as stranger, catalog.client("root") as root:
        assert stranger.get(f"{ACCESS}/me").json() == {
            "id": "stranger",
            "roles": [],
            "team": None,
            "admin": False,
            "attributes": {},
        }
        assert stranger.get(f"{ACCESS}/principals").status_code == 403
        listed = root.get(f"{ACCESS}/principals")
        assert {"ann", "stranger", "root"} <= {p["id"] for p in listed.json()["principals"]}
        assert "sha256" not in listed.text and "verifier" not in listed.text
        assert stranger.get(f"{ACCESS}/audit").status_code == 403
        assert stranger.get(f"{ACCESS}/audit", params={"product": "sales.orders"}).status_code == 403
        assert root.get(f"{ACCESS}/audit", params={"limit": 10}).status_code == 200

        made = stranger.post(f"{ACCESS}/tokens", json={"days": 1})
        assert made.status_code == 201
        token, token_id = made.json()["token"], made.json()["id"]
        assert token_id in [t["id"] for t in stranger.get(f"{ACCESS}/tokens").json()["tokens"]]
        assert token not in stranger.get(f"{ACCESS}/tokens").text
        with catalog.client() as fresh:
            headers = {"Authorization": f"Bearer {token}"}
            assert fresh.get(f"{ACCESS}/me", headers=headers).json()["id"] == "stranger"
            assert root.delete(f"{ACCESS}/tokens/no-such-token").status_code == 404
            assert catalog.client("ann").delete(f"{ACCESS}/tokens/{token_id}").status_code == 404  # not ann's
            assert stranger.delete(f"{ACCESS}/tokens/{token_id}").status_code == 200
            assert fresh.get(f"{ACCESS}/me", headers=headers).status_code == 401
