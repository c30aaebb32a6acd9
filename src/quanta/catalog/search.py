"""THE product search: full text over names, job descriptions, property names and descriptions, tags
and domains, with facets (domain, tag, status, trust), ranked by text relevance boosted by trust.

One index serves ``quanta search``, the catalog API and the web catalog. It is an in-memory
`tantivy <https://github.com/quickwit-oss/tantivy-py>`_ index (BM25 with a weight per field,
English stemming, prefix matching of every word), kept in step with the catalog by
:meth:`SearchIndex.sync`, which rewrites only the documents whose content changed. The index knows
nothing of principals: the caller passes the keys a principal may not discover.

Ranking: ``score = BM25 relevance x TRUST_BOOST[trust]``. A product whose published objectives are
all met ranks above an equally relevant one whose error budget is exhausted. User text is split
into words of letters and digits, so nothing a user types is query syntax.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from quanta.spec.product import DataProduct

Trust = Literal["met", "at-risk", "breached", "unmeasured"]

TRUST_BOOST: dict[str, float] = {"met": 1.3, "at-risk": 1.0, "unmeasured": 1.0, "breached": 0.7}
"""Multiplier of a product's text relevance by its trust (the worst status of its SLO document)."""

FIELD_WEIGHTS: dict[str, float] = {
    "name": 10.0,
    "tags": 5.0,
    "description": 4.0,
    "domain": 3.0,
    "properties": 2.0,
}
"""BM25 weight of each searched field: a word in a product's name counts most."""

PREFIX_WEIGHT = 0.5
"""Weight of a word's prefix matches (``sku`` finds ``skus``) relative to its whole-word matches."""

FACETS = ("domain", "tag", "status", "trust")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_MAX_WORDS = 16
_MAX_FACET_VALUES = 50


@dataclass(frozen=True)
class SearchDocument:
    """What the index knows of one product major."""

    key: str
    ref: str
    domain: str
    name: str
    major: int
    status: str
    description: str
    tags: tuple[str, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()
    """(name, description) of each property."""
    trust: Trust = "unmeasured"
    confidential: bool = False


def document_of(spec: DataProduct, trust: Trust = "unmeasured") -> SearchDocument:
    """The search document of a product spec."""
    return SearchDocument(
        key=spec.key,
        ref=spec.ref,
        domain=spec.domain or "",
        name=spec.name,
        major=spec.major,
        status=spec.status,
        description=" ".join((spec.description or "").split()),
        tags=tuple(spec.tags),
        properties=tuple((p.name, " ".join((p.description or "").split())) for p in spec.schema_.properties),
        trust=trust,
        confidential=spec.access.confidential,
    )


@dataclass(frozen=True)
class SearchQuery:
    """Words to look for (empty: browse everything) and facet filters (a value of any listed one)."""

    text: str = ""
    domains: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    trusts: tuple[str, ...] = ()
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class SearchHit:
    document: SearchDocument
    score: float
    matched: tuple[str, ...]
    """The fields a word of the query was found in."""


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    total: int
    """Matching products in all (the hits are one page of them)."""
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per facet, each value's number of matching products."""


class SearchIndex:
    """An in-memory full-text index of product documents; safe to share between threads."""

    def __init__(self) -> None:
        import tantivy

        self._tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("key", stored=True, tokenizer_name="raw", fast=True)
        for facet in FACETS:
            builder.add_text_field(f"{facet}_f", tokenizer_name="raw", fast=True)
        builder.add_float_field("weight", fast=True)
        for name in FIELD_WEIGHTS:
            builder.add_text_field(name, tokenizer_name="en_stem")
        self._schema = builder.build()
        self._index = tantivy.Index(self._schema)
        self._lock = threading.Lock()
        self._documents: dict[str, SearchDocument] = {}

    def __len__(self) -> int:
        return len(self._documents)

    def sync(self, documents: Iterable[SearchDocument]) -> int:
        """Make the index hold exactly ``documents``; returns how many were added, changed or removed."""
        wanted = {d.key: d for d in documents}
        with self._lock:
            gone = [key for key in self._documents if key not in wanted]
            changed = [d for key, d in wanted.items() if self._documents.get(key) != d]
            if not gone and not changed:
                return 0
            writer = self._index.writer(heap_size=50_000_000, num_threads=1)
            for key in gone + [d.key for d in changed if d.key in self._documents]:
                writer.delete_documents_by_term("key", key)
                del self._documents[key]
            for document in changed:
                writer.add_document(self._tantivy_document(document))
                self._documents[document.key] = document
            writer.commit()
            writer.wait_merging_threads()
            self._index.reload()
        return len(gone) + len(changed)

    def _tantivy_document(self, d: SearchDocument) -> Any:
        document = self._tantivy.Document(
            key=d.key,
            name=d.name,
            tags=" ".join(d.tags),
            description=d.description,
            domain=d.domain,
            properties=" ".join(f"{name} {text}" for name, text in d.properties),
            domain_f=d.domain,
            status_f=d.status,
            trust_f=d.trust,
            weight=_weight(d.trust),
        )
        for tag in dict.fromkeys(d.tags):
            document.add_text("tag_f", tag)
        return document

    def search(self, query: SearchQuery, hidden: Iterable[str] = ()) -> SearchResult:
        """One page of the products matching every word of the query (any word, when none matches
        them all), best first, with facet counts over all matches; ``hidden``: keys left out."""
        words = words_of(query.text)[:_MAX_WORDS]
        hidden = sorted(set(hidden))
        with self._lock:
            searcher: Any = self._index.searcher()
            if not words:
                return self._browse(searcher, query, hidden)
            matched = self._filtered(self._text_query(words, all_words=True), query, hidden)
            total = searcher.search(matched, 1, count=True).count
            if total == 0 and len(words) > 1:
                matched = self._filtered(self._text_query(words, all_words=False), query, hidden)
                total = searcher.search(matched, 1, count=True).count
            found = searcher.search(matched, query.limit, count=False, offset=query.offset, weight_by_field="weight")
            hits = [self._hit(searcher, address, score, words) for score, address in found.hits]
            return SearchResult(hits, total, self._facets(searcher, matched))

    def _browse(self, searcher: Any, query: SearchQuery, hidden: list[str]) -> SearchResult:
        """Every product passing the filters: most trusted first, then by key."""
        tantivy = self._tantivy
        everything = self._filtered(tantivy.Query.all_query(), query, hidden)
        hits: list[SearchHit] = []
        skip, wanted, total = query.offset, query.limit, 0
        for trust in sorted(TRUST_BOOST, key=lambda t: (-TRUST_BOOST[t], t)):
            part = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, everything), (tantivy.Occur.Must, self._terms("trust_f", [trust]))]
            )
            count = searcher.search(part, 1, count=True).count
            total += count
            if wanted > 0 and skip < count:
                page = searcher.search(
                    part, wanted, count=False, offset=skip, order_by_field="key", order=tantivy.Order.Asc
                )
                hits += [self._hit(searcher, address, TRUST_BOOST[trust], []) for _, address in page.hits]
                wanted -= len(page.hits)
            skip = max(0, skip - count)
        return SearchResult(hits, total, self._facets(searcher, everything))

    def _hit(self, searcher: Any, address: Any, score: float, words: list[str]) -> SearchHit:
        document = self._documents[searcher.doc(address)["key"][0]]
        return SearchHit(document, round(float(score), 6), matched_fields(document, words))

    def _text_query(self, words: list[str], *, all_words: bool) -> Any:
        tantivy = self._tantivy
        occur = tantivy.Occur.Must if all_words else tantivy.Occur.Should
        return tantivy.Query.boolean_query([(occur, self._word_query(word)) for word in words])

    def _word_query(self, word: str) -> Any:
        """A word in any field, weighted per field; also as the start of a longer word."""
        tantivy = self._tantivy
        whole = self._index.parse_query(word, list(FIELD_WEIGHTS), field_boosts=FIELD_WEIGHTS)  # letters, digits
        if len(word) < 3:
            return whole
        prefixes = [
            (
                tantivy.Occur.Should,
                tantivy.Query.boost_query(
                    tantivy.Query.fuzzy_term_query(self._schema, name, word, distance=0, prefix=True),
                    weight * PREFIX_WEIGHT,
                ),
            )
            for name, weight in FIELD_WEIGHTS.items()
        ]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, whole), *prefixes])

    def _filtered(self, text: Any, query: SearchQuery, hidden: list[str]) -> Any:
        tantivy = self._tantivy
        clauses = [(tantivy.Occur.Must, text)]
        for facet, values in (
            ("domain", query.domains),
            ("tag", query.tags),
            ("status", query.statuses),
            ("trust", query.trusts),
        ):
            if values:
                clauses.append((tantivy.Occur.Must, self._terms(f"{facet}_f", list(values))))
        if hidden:
            clauses.append((tantivy.Occur.MustNot, self._terms("key", hidden)))
        return tantivy.Query.boolean_query(clauses)

    def _terms(self, field_name: str, values: list[str]) -> Any:
        return self._tantivy.Query.term_set_query(self._schema, field_name, values)

    def _facets(self, searcher: Any, matched: Any) -> dict[str, dict[str, int]]:
        request = {f: {"terms": {"field": f"{f}_f", "size": _MAX_FACET_VALUES}} for f in FACETS}
        result = searcher.aggregate(matched, request)
        return {
            f: dict(sorted(((b["key"], b["doc_count"]) for b in result[f]["buckets"]), key=lambda i: (-i[1], i[0])))
            for f in FACETS
        }

    def close(self) -> None:
        """Nothing to release: the index lives in memory."""


def _weight(trust: str) -> float:
    """The value of the ``weight`` field tantivy multiplies a score by as ``log2(2 + weight)``,
    scaled so the smallest boost is 1 (ranking only depends on the ratios)."""
    return 2 ** (TRUST_BOOST[trust] / min(TRUST_BOOST.values())) - 2


def words_of(text: str) -> list[str]:
    """The words of a query: runs of letters and digits, lower-cased, each once."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))


def matched_fields(document: SearchDocument, words: list[str]) -> tuple[str, ...]:
    """The fields holding a word of the query (or a word starting with it), for showing why a hit."""
    stems = tuple(w[: max(3, len(w) - 2)] for w in words)
    return tuple(label for label, tokens in _field_words(document) if any(t.startswith(stems) for t in tokens))


@lru_cache(maxsize=20_000)
def _field_words(document: SearchDocument) -> tuple[tuple[str, tuple[str, ...]], ...]:
    fields = {
        "name": document.name,
        "tags": " ".join(document.tags),
        "description": document.description,
        "domain": document.domain,
        **{f"property {name}": f"{name} {text}" for name, text in document.properties},
    }
    return tuple((label, tuple(dict.fromkeys(words_of(value)))) for label, value in fields.items())
