"""Item-to-item co-purchase recommendations with an offline evaluation against most-popular.

Customers and items are row and column indices of a sparse customer x item purchase matrix.
Item ``j`` follows item ``i`` with the conditional probability that a customer who bought ``i``
also bought ``j`` (Deshpande & Karypis 2004, without their popularity damping, which hurt on
sparse fashion baskets); each item keeps its ``neighbours`` strongest followers. A customer's
candidates are scored by summing those probabilities over everything they bought. Items they
already bought and items not made for them are never recommended; ties, and customers with no
co-purchase signal, fall back to popularity, then to the lower item index, so results are
deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import sparse

BATCH = 1024


@dataclass(frozen=True)
class ItemNeighbours:
    """Item x item similarities (each row keeps its top neighbours) and item popularity."""

    similarity: sparse.csr_matrix
    popularity: np.ndarray


@dataclass(frozen=True)
class Recommendations:
    """Top-N per customer as parallel arrays; ``because`` is the bought item that contributed most
    to the score, or -1 when the item was recommended for its popularity alone."""

    customer: np.ndarray
    rank: np.ndarray
    item: np.ndarray
    score: np.ndarray
    because: np.ndarray

    def top(self, customer: int) -> list[int]:
        return self.item[self.customer == customer].tolist()


def purchase_matrix(customers: np.ndarray, items: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """A binary customer x item matrix from (customer, item) index pairs (repeats count once)."""
    matrix = sparse.csr_matrix((np.ones(len(customers), dtype=np.float32), (customers, items)), shape=shape)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def fit_item_neighbours(purchases: sparse.csr_matrix, neighbours: int = 50) -> ItemNeighbours:
    """P(bought j | bought i) over customers, keeping each item's top ``neighbours`` followers."""
    by_item = purchases.T.tocsr()
    popularity = np.asarray(by_item.sum(axis=1)).ravel()
    co = (by_item @ by_item.T).tocsr().astype(np.float32)
    co.setdiag(0.0)
    co.eliminate_zeros()
    conditional = sparse.diags((1 / np.maximum(popularity, 1.0)).astype(np.float32)) @ co
    return ItemNeighbours(_keep_top(conditional.tocsr(), neighbours), popularity)


def recommend(
    model: ItemNeighbours,
    purchases: sparse.csr_matrix,
    allowed: np.ndarray,
    group: np.ndarray,
    n: int = 10,
    customers: np.ndarray | None = None,
    *,
    explain: bool = True,
) -> Recommendations:
    """Top ``n`` items per customer: never an item they bought, only items ``allowed[group[c]]``."""
    return _top_n(model, purchases, allowed, group, n, customers, explain=explain)


def most_popular(
    popularity: np.ndarray,
    purchases: sparse.csr_matrix,
    allowed: np.ndarray,
    group: np.ndarray,
    n: int = 10,
    customers: np.ndarray | None = None,
) -> Recommendations:
    """The baseline: the most bought items each customer has not bought and is allowed."""
    empty = sparse.csr_matrix((purchases.shape[1], purchases.shape[1]), dtype=np.float32)
    return _top_n(ItemNeighbours(empty, popularity), purchases, allowed, group, n, customers, explain=False)


def hit_rate(recommended: Recommendations, held_out: dict[int, set[int]]) -> float:
    """Share of customers with a held-out item among their recommendations."""
    if not held_out:
        return 0.0
    pairs = zip(recommended.customer.tolist(), recommended.item.tolist(), strict=True)
    return len({c for c, i in pairs if i in held_out.get(c, ())}) / len(held_out)


def _top_n(
    model: ItemNeighbours,
    purchases: sparse.csr_matrix,
    allowed: np.ndarray,
    group: np.ndarray,
    n: int,
    customers: np.ndarray | None,
    *,
    explain: bool,
) -> Recommendations:
    """Candidates are the items with a co-purchase score plus, per customer, enough of their group's
    most popular items to fill ``n`` after exclusions; everything stays sparse."""
    items = purchases.shape[1]
    who = np.arange(purchases.shape[0]) if customers is None else np.asarray(customers, dtype=np.int64)
    top = max(float(model.popularity.max(initial=0.0)), 1.0)
    tiebreak = model.popularity / top * 1e-3 - np.arange(items) * 1e-12  # popularity, then the lower index
    deepest = n + int(np.diff(purchases.indptr).max(initial=0))
    popular = np.full((len(allowed), deepest), -1, dtype=np.int64)  # per group: allowed items, most popular first
    for g, row in enumerate(allowed):
        ranked = np.flatnonzero(row)[np.argsort(-tiebreak[row], kind="stable")][:deepest]
        popular[g, : len(ranked)] = ranked
    parts: list[tuple[np.ndarray, ...]] = []
    for batch in _batches(who):
        rows = purchases[batch]
        scored = (rows @ model.similarity).tocoo()
        depth = n + int(np.diff(rows.indptr).max(initial=0))  # enough to fill n after this batch's exclusions
        fill_items = popular[group[batch], :depth]
        fill_rows = np.repeat(np.arange(len(batch)), depth)
        row = np.concatenate([scored.row.astype(np.int64), fill_rows[fill_items.ravel() >= 0]])
        item = np.concatenate([scored.col.astype(np.int64), fill_items.ravel()[fill_items.ravel() >= 0]])
        similarity = np.concatenate([scored.data.astype(np.float64), np.zeros(int((fill_items >= 0).sum()))])
        key = row * items + item
        first = np.unique(key, return_index=True)[1]  # co-purchase entries come first: they win duplicates
        row, item, similarity, key = row[first], item[first], similarity[first], key[first]
        bought = rows.tocoo()
        keep = allowed[group[batch][row], item] & ~np.isin(key, bought.row.astype(np.int64) * items + bought.col)
        row, item, similarity = row[keep], item[keep], similarity[keep]
        order = np.lexsort((-(similarity + tiebreak[item]), row))
        row, item, similarity = row[order], item[order], similarity[order]
        rank = np.arange(len(row)) - np.searchsorted(row, row, side="left")
        keep = rank < n
        row, item, similarity, rank = row[keep], item[keep], similarity[keep], rank[keep]
        because = _because(rows, model.similarity, row, item, similarity) if explain else np.full(len(row), -1)
        parts.append((batch[row], rank + 1, item, similarity, because))
    if not parts:
        return Recommendations(*(np.array([], dtype=np.int64) for _ in range(5)))
    return Recommendations(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def _because(
    rows: sparse.csr_matrix, similarity: sparse.csr_matrix, row: np.ndarray, item: np.ndarray, score: np.ndarray
) -> np.ndarray:
    """For each recommended (row, item), the bought item most similar to it (-1 when none is)."""
    because = np.full(len(row), -1, dtype=np.int64)
    scored = np.flatnonzero(score > 0)
    if not len(scored):
        return because
    counts = np.diff(rows.indptr)[row[scored]]
    pair = np.repeat(scored, counts)
    offsets = np.arange(len(pair)) - np.repeat(np.cumsum(counts) - counts, counts)
    bought = rows.indices[rows.indptr[row[pair]] + offsets].astype(np.int64)
    strength = np.asarray(similarity[bought, item[pair]]).ravel()
    order = np.lexsort((bought, -strength, pair))  # strongest first, then the lower item index
    pair, bought, strength = pair[order], bought[order], strength[order]
    best = np.unique(pair, return_index=True)[1]
    because[pair[best]] = np.where(strength[best] > 0, bought[best], -1)
    return because


def _keep_top(matrix: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        if end == start:
            continue
        values, indices = matrix.data[start:end], matrix.indices[start:end]
        if end - start > k:
            pick = np.lexsort((indices, -values))[:k]
            values, indices = values[pick], indices[pick]
        rows.append(np.full(len(values), row))
        cols.append(indices)
        vals.append(values)
    if not rows:
        return sparse.csr_matrix(matrix.shape, dtype=np.float32)
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=matrix.shape, dtype=np.float32
    )


def _batches(who: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(who), BATCH):
        yield who[start : start + BATCH]


@dataclass(frozen=True)
class Evaluation:
    """Offline evaluation: hold out each repeat customer's last basket, train on the rest."""

    customers: int
    k: int
    hit_rate: float
    baseline_hit_rate: float

    @property
    def lift(self) -> float:
        return self.hit_rate / self.baseline_hit_rate if self.baseline_hit_rate else float("inf")


def evaluate(
    customer: np.ndarray,
    item: np.ndarray,
    basket: np.ndarray,
    shape: tuple[int, int],
    allowed: np.ndarray,
    group: np.ndarray,
    k: int = 10,
    neighbours: int = 50,
) -> Evaluation:
    """Hit-rate@k of item-to-item recommendations against most-popular, on each repeat customer's
    last basket (``basket`` orders a customer's baskets in time); only items new to the customer
    count as hits, since bought items are never recommended."""
    last = np.full(shape[0], -1, dtype=np.int64)
    np.maximum.at(last, customer, basket)
    first = np.full(shape[0], np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, customer, basket)
    held = (basket == last[customer]) & (first[customer] < last[customer])
    train = purchase_matrix(customer[~held], item[~held], shape)
    trained = train.tocoo()
    new = ~np.isin(
        customer[held].astype(np.int64) * shape[1] + item[held], trained.row.astype(np.int64) * shape[1] + trained.col
    )
    held_out: dict[int, set[int]] = {}
    for c, i in zip(customer[held][new].tolist(), item[held][new].tolist(), strict=True):
        held_out.setdefault(c, set()).add(i)
    who = np.array(sorted(held_out), dtype=np.int64)
    model = fit_item_neighbours(train, neighbours)
    ours = recommend(model, train, allowed, group, k, who, explain=False)
    baseline = most_popular(model.popularity, train, allowed, group, k, who)
    return Evaluation(len(who), k, hit_rate(ours, held_out), hit_rate(baseline, held_out))
