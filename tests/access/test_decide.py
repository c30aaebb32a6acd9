"""``decide()`` on its own: who is let in, by which source, and what a lacking attribute means."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from quanta.access import CatalogGrant, Principal, decide
from quanta.spec.loader import product_from_data
from quanta.spec.plugins import PluginRegistry
from quanta.spec.policy import Grant
from quanta.spec.product import DataProduct

SPEC = {
    "apiVersion": "quanta/v1",
    "kind": "DataProduct",
    "name": "orders",
    "domain": "sales",
    "version": "2.0.0",
    "status": "active",
    "description": "Every order placed in the web shop.",
    "transform": {"type": "sql", "steps": ["orders.sql"]},
    "schema": {
        "properties": [
            {"name": "order_id", "logicalType": "string", "primaryKey": True},
            {"name": "email", "logicalType": "string", "classification": "pii"},
            {"name": "country", "logicalType": "string"},
        ]
    },
    "outputs": [{"id": "table", "type": "sql"}, {"id": "api", "type": "rest"}],
    "access": {
        "grants": [
            {"role": "analysts", "ports": ["table"]},
            {"role": "analysts", "ports": ["api"], "rowFilter": "country = :principal.country"},
        ]
    },
}


def _spec() -> DataProduct:
    return product_from_data(SPEC, PluginRegistry.default(), "orders.yaml")


def _catalog(grant_id: int, major: int | None = None, **fields: object) -> CatalogGrant:
    return CatalogGrant(grant_id, Grant.model_validate(fields), "admin", "root", major)


def test_the_domains_team_owns_a_product_without_a_team_of_its_own() -> None:
    spec = _spec()
    member = Principal("dora", team="sales-data")
    decision = decide(member, spec, "api", classified=["email"], owning_team="sales-data")
    assert decision.allowed and decision.source == "owning team sales-data"
    assert set(decision.masked) == {"email"}  # the owning team too sees classified values masked by default
    unmasked = decide(member, spec, "api", classified=["email"], owning_team="sales-data", unmask=True)
    assert unmasked.masked == {}
    assert not decide(member, spec, "api", owning_team="customer-data").allowed


def test_spec_grants_are_named_by_position_and_a_lacking_attribute_sees_no_rows() -> None:
    spec = _spec()
    ann = Principal("ann", frozenset({"analysts"}))
    assert decide(ann, spec, "table").source == "spec grant 1"
    api = decide(ann, spec, "api")
    assert api.allowed and api.source == "spec grant 2"
    assert api.missing == ("country",) and api.sees_no_rows and "sees no rows" in api.reason
    with_country = decide(Principal("fr", frozenset({"analysts"}), {"country": "FR"}), spec, "api")
    assert with_country.allowed and not with_country.sees_no_rows


def test_a_catalog_grant_applies_to_its_major_only_unless_it_names_none() -> None:
    spec = _spec()  # major 2
    bob = Principal("bob")
    assert not decide(bob, spec, "table", catalog_grants=[_catalog(1, 1, principal="bob", ports=["table"])]).allowed
    every = decide(bob, spec, "table", catalog_grants=[_catalog(2, None, principal="bob", ports=["table"])])
    assert every.allowed and every.source == "catalog grant 2"
    ends = datetime(2026, 2, 1, 12, 30, tzinfo=UTC)
    expiring = replace(_catalog(3, None, principal="bob", ports=["table"]), expires_at=ends)
    before = decide(bob, spec, "table", catalog_grants=[expiring], now=ends - timedelta(microseconds=1))
    assert before.allowed and before.expires_at == ends
    assert not decide(bob, spec, "table", catalog_grants=[expiring], now=ends).allowed


def test_a_spec_grant_is_valid_through_its_last_day_in_utc() -> None:
    spec = _spec()
    last_day = spec.access.grants[0].model_copy(update={"expires": date(2026, 1, 31)})
    dated = spec.model_copy(update={"access": spec.access.model_copy(update={"grants": [last_day]})})
    ann = Principal("ann", frozenset({"analysts"}))
    late = decide(ann, dated, "table", now=datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC))
    assert late.allowed and late.expires_at == datetime(2026, 2, 1, tzinfo=UTC)
    assert not decide(ann, dated, "table", now=datetime(2026, 2, 1, tzinfo=UTC)).allowed
