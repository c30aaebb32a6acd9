"""Item-to-item recommendations on small hand-made purchase histories."""

from __future__ import annotations

import numpy as np

from quanta.models.recommend import (
    evaluate,
    fit_item_neighbours,
    hit_rate,
    most_popular,
    purchase_matrix,
    recommend,
)

ITEMS = 6  # 0..5; item 5 is only for group 1
ALLOWED = np.array([[True] * 5 + [False], [True] * 6])


def matrix(pairs: list[tuple[int, int]], customers: int) -> object:
    c, i = zip(*pairs, strict=True)
    return purchase_matrix(np.array(c), np.array(i), (customers, ITEMS))


def test_co_purchased_items_come_first_with_the_purchase_that_explains_them() -> None:
    # customers 0-3 bought items 0 and 1 together; customers 4-7 bought item 2 (the most popular) with 3
    pairs = [(c, 0) for c in range(4)] + [(c, 1) for c in range(4)]
    pairs += [(c, 2) for c in range(4, 10)] + [(c, 3) for c in range(4, 8)] + [(10, 0)]
    purchases = matrix(pairs, 11)
    model = fit_item_neighbours(purchases, neighbours=5)
    assert np.isclose(model.similarity[1, 0], 4 / 4)  # everyone who bought 1 also bought 0 …
    assert np.isclose(model.similarity[0, 1], 4 / 5)  # … and 4 of the 5 who bought 0 bought 1
    assert np.isclose(model.similarity[2, 3], 4 / 6)  # … but 3 follows 2 only for 4 of its 6 buyers
    got = recommend(model, purchases, ALLOWED, np.zeros(11, dtype=int), n=3, customers=np.array([10]))
    assert got.item.tolist()[0] == 1 and got.because.tolist()[0] == 0 and got.score.tolist()[0] > 0
    assert got.item.tolist()[1:] == [2, 3]  # no co-purchase signal left: by popularity (2 before 3)
    assert got.because.tolist()[1:] == [-1, -1] and got.score.tolist()[1:] == [0.0, 0.0]
    assert got.rank.tolist() == [1, 2, 3]


def test_never_an_item_bought_nor_one_not_allowed() -> None:
    rng = np.random.default_rng(3)
    pairs = sorted(
        {(int(c), int(i)) for c, i in zip(rng.integers(0, 40, 300), rng.integers(0, ITEMS, 300), strict=True)}
    )
    purchases = matrix(pairs, 40)
    group = rng.integers(0, 2, 40)
    got = recommend(fit_item_neighbours(purchases), purchases, ALLOWED, group, n=4)
    bought = set(pairs)
    for c, i in zip(got.customer.tolist(), got.item.tolist(), strict=True):
        assert (c, i) not in bought
        assert ALLOWED[group[c], i]
    counts = np.bincount(got.customer, minlength=40)
    expected = [
        min(4, sum(1 for i in range(ITEMS) if ALLOWED[group[c], i] and (c, i) not in bought)) for c in range(40)
    ]
    assert counts.tolist() == expected  # as many as there are allowed, unbought items, up to n


def test_ties_break_on_popularity_then_lower_item() -> None:
    purchases = matrix([(0, 4), (1, 4), (2, 3), (3, 1)], 5)
    got = most_popular(fit_item_neighbours(purchases).popularity, purchases, ALLOWED, np.zeros(5, dtype=int), n=4)
    assert got.top(4) == [4, 1, 3, 0]  # 4 bought twice; 1 and 3 once (lower index first); then 0
    assert got.top(0) == [1, 3, 0, 2]
    again = most_popular(fit_item_neighbours(purchases).popularity, purchases, ALLOWED, np.zeros(5, dtype=int), n=4)
    assert again.item.tolist() == got.item.tolist()


def test_hit_rate_counts_customers_with_a_held_out_item_in_their_list() -> None:
    purchases = matrix([(0, 0), (1, 0), (2, 0)], 3)
    got = most_popular(np.array([0, 5, 4, 3, 2, 1.0]), purchases, ALLOWED, np.zeros(3, dtype=int), n=2)
    assert got.top(0) == [1, 2]
    assert hit_rate(got, {0: {2}, 1: {4}, 2: {1, 3}}) == 2 / 3


def test_evaluation_holds_out_each_repeat_customers_last_basket() -> None:
    # two tastes: items 0-1 go together, items 2-3 go together; item 4 is bought by everyone.
    # Customers 0-59 come back for the partner item; 60-119 bought all three at once (one basket).
    customer, item, basket = [], [], []
    for c in range(120):
        pair = (0, 1) if c % 2 else (2, 3)
        baskets = [(pair[0], 4), (pair[1],)] if c < 60 else [(pair[0], pair[1], 4)]
        for b, bought in enumerate(baskets):
            customer += [c] * len(bought)
            item += list(bought)
            basket += [c * 10 + b] * len(bought)
    result = evaluate(
        np.array(customer), np.array(item), np.array(basket), (120, ITEMS), ALLOWED, np.zeros(120, dtype=int), k=1
    )
    assert result.customers == 60  # only repeat customers are evaluated
    assert result.hit_rate == 1.0  # the partner of the first item, every time
    assert result.baseline_hit_rate == 0.0  # the most popular unbought item is the other taste's first item
