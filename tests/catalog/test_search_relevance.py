"""Search relevance on labelled queries over the reference mesh, and the ranking rules (trust boost,
facets, filters, hidden keys, incremental sync) on a synthetic index."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from quanta.catalog.search import SearchDocument, SearchIndex, SearchQuery
from quanta.project import Mesh

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fashion-retail"

# (query, the product a person asking it wants first): written from the products' job descriptions.
LABELLED = [
    ("customer lifetime value", "customer-relations.customer-lifetime-value@v1"),
    ("clv", "customer-relations.customer-lifetime-value@v1"),
    ("next best action", "customer-relations.customer-lifetime-value@v1"),
    ("probability alive", "customer-relations.customer-lifetime-value@v1"),
    ("returns", "after-sales.returns@v1"),
    ("refund amount", "after-sales.returns@v1"),
    ("return window", "after-sales.returns@v1"),
    ("return rate", "merchandising.return-rates@v1"),
    ("delisting candidate", "merchandising.return-rates@v1"),
    ("sizing signal", "merchandising.return-rates@v1"),
    ("weekly sales", "merchandising.weekly-sku-sales@v1"),
    ("last year", "merchandising.weekly-sku-sales@v1"),
    ("recommendations", "marketing.product-recommendations@v1"),
    ("likely to buy next", "marketing.product-recommendations@v1"),
    ("marketing consent", "customer.customer-marketing-360@v1"),
    ("customer profile phone", "customer.customer-marketing-360@v1"),
    ("birth date", "customer.customer-marketing-360@v1"),
    ("list price colour", "merchandising.products@v1"),
    ("brand department style", "merchandising.products@v1"),
    ("order lines web shop", "sales.historical-purchases@v1"),
    ("unit price purchased", "sales.historical-purchases@v1"),
    ("purchases", "sales.historical-purchases@v1"),
]


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    root = tmp_path_factory.mktemp("search") / "fashion-retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".quanta"))
    mesh = Mesh.load(root)
    yield mesh
    mesh.close()


@pytest.mark.parametrize(("text", "expected"), LABELLED, ids=[q for q, _ in LABELLED])
def test_a_labelled_query_has_its_product_first(mesh: Mesh, text: str, expected: str) -> None:
    result = mesh.search(SearchQuery(text))
    assert result.hits, f"nothing found for {text!r}"
    assert result.hits[0].document.key == expected, [(h.document.key, h.score) for h in result.hits[:3]]


def test_there_are_at_least_twenty_labelled_queries() -> None:
    assert len(LABELLED) >= 20 and len({q for q, _ in LABELLED}) == len(LABELLED)


def test_words_are_not_query_syntax(mesh: Mesh) -> None:
    for text in ['returns" OR name:*', "AND", "(((", "name:returns", "*", "-returns", "返品"]:
        mesh.search(SearchQuery(text))  # never a parse error
    quoted = [h.document.key for h in mesh.search(SearchQuery('"returns":* (')).hits]
    assert quoted == [h.document.key for h in mesh.search(SearchQuery("returns")).hits]


def _document(key: str, trust: str = "unmeasured", **fields: object) -> SearchDocument:
    domain, name = key.split("@")[0].split(".")
    values: dict[str, object] = {
        "key": key,
        "ref": key.split("@")[0],
        "domain": domain,
        "name": name,
        "major": 1,
        "status": "active",
        "description": "Daily stock levels per warehouse.",
        "trust": trust,
    }
    return SearchDocument(**(values | fields))  # type: ignore[arg-type]


def test_trust_boosts_an_equally_relevant_product_and_breaches_sink() -> None:
    index = SearchIndex()
    index.sync(
        [
            _document("a.stock-levels@v1", "breached"),
            _document("b.stock-levels@v1", "unmeasured"),
            _document("c.stock-levels@v1", "met"),
        ]
    )
    ranked = [h.document.key for h in index.search(SearchQuery("stock levels")).hits]
    assert ranked == ["c.stock-levels@v1", "b.stock-levels@v1", "a.stock-levels@v1"]
    scores = [h.score for h in index.search(SearchQuery("stock levels")).hits]
    assert scores[0] / scores[1] == pytest.approx(1.3, rel=1e-3) and scores[2] / scores[1] == pytest.approx(
        0.7, rel=1e-3
    )
    browse = [h.document.key for h in index.search(SearchQuery("")).hits]
    assert browse == ["c.stock-levels@v1", "b.stock-levels@v1", "a.stock-levels@v1"]


def test_trust_does_not_beat_a_much_better_text_match() -> None:
    index = SearchIndex()
    index.sync(
        [
            _document("a.stock-levels@v1", "breached"),
            _document("b.weather@v1", "met", description="Temperatures, with a note on stock."),
        ]
    )
    assert index.search(SearchQuery("stock levels")).hits[0].document.key == "a.stock-levels@v1"


def test_facets_count_all_matches_and_filters_narrow_them() -> None:
    index = SearchIndex()
    index.sync(
        [
            _document("a.stock@v1", "met", tags=("inventory", "daily")),
            _document("a.stock-history@v1", "at-risk", tags=("inventory",), status="deprecated"),
            _document("b.stock@v1", "met", tags=("daily",)),
            _document("b.weather@v1", "met", description="Temperatures per city."),
        ]
    )
    everything = index.search(SearchQuery("stock", limit=1))
    assert everything.total == 3 and len(everything.hits) == 1
    assert everything.facets["domain"] == {"a": 2, "b": 1}
    assert everything.facets["tag"] == {"daily": 2, "inventory": 2}
    assert everything.facets["trust"] == {"met": 2, "at-risk": 1}
    assert everything.facets["status"] == {"active": 2, "deprecated": 1}
    narrowed = index.search(SearchQuery("stock", domains=("a",), tags=("inventory",), statuses=("active",)))
    assert [h.document.key for h in narrowed.hits] == ["a.stock@v1"]
    assert index.search(SearchQuery("", trusts=("at-risk",))).total == 1
    page = index.search(SearchQuery("stock", limit=2, offset=2))
    assert page.total == 3 and len(page.hits) == 1


def test_hidden_keys_are_neither_hits_nor_counted() -> None:
    index = SearchIndex()
    index.sync([_document("a.stock@v1"), _document("b.stock@v1")])
    result = index.search(SearchQuery("stock"), hidden=["b.stock@v1"])
    assert [h.document.key for h in result.hits] == ["a.stock@v1"] and result.total == 1
    assert result.facets["domain"] == {"a": 1}
    assert index.search(SearchQuery(""), hidden=["b.stock@v1"]).total == 1


def test_sync_rewrites_changed_documents_and_drops_removed_ones() -> None:
    index = SearchIndex()
    assert index.sync([_document("a.stock@v1"), _document("b.stock@v1")]) == 2
    assert index.sync([_document("a.stock@v1"), _document("b.stock@v1")]) == 0
    assert index.sync([_document("a.stock@v1", description="Shipments by carrier.")]) == 2
    assert [h.document.key for h in index.search(SearchQuery("warehouse")).hits] == []
    assert [h.document.key for h in index.search(SearchQuery("carrier")).hits] == ["a.stock@v1"]
    assert len(index) == 1


def test_all_words_first_then_any_word() -> None:
    index = SearchIndex()
    index.sync([_document("a.stock@v1"), _document("b.weather@v1", description="Temperatures per city.")])
    assert [h.document.key for h in index.search(SearchQuery("stock city")).hits] == ["a.stock@v1", "b.weather@v1"]
    assert index.search(SearchQuery("stock warehouse")).total == 1


def test_a_word_s_prefix_finds_it() -> None:
    index = SearchIndex()
    index.sync([_document("a.stock@v1", description="Replenishment orders.")])
    assert index.search(SearchQuery("replen")).total == 1
