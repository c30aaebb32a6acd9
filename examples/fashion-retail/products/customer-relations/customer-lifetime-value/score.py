"""The ``score`` model port: customers scored one batch at a time with the snapshot's fitted BG/NBD
and Gamma-Gamma parameters, as ``model.py`` scores the whole population.

A customer's value segment and whether their history is valuable come from the population the
artefacts were fitted on (``cuts``): a predicted value at a segment's smallest value or above is in
that segment (a tie at a cut goes to the higher segment).
"""

import numpy as np

from model import next_best_actions
from quanta.models.clv import BgNbd, GammaGamma, expected_purchases, expected_spend, probability_alive


def predict(features, artefacts):
    x = np.asarray(features["frequency"], dtype=float)
    t_x = np.asarray(features["recency"], dtype=float)
    age = np.asarray(features["age"], dtype=float)
    value = np.asarray(features["avg_spend"], dtype=float)
    purchases = BgNbd(**{k: artefacts["bgnbd"][k] for k in ("r", "alpha", "a", "b")})
    spend = GammaGamma(**artefacts["gammaGamma"])
    alive = probability_alive(purchases, x, t_x, age)
    future = expected_purchases(purchases, artefacts["horizonWeeks"], x, t_x, age)
    clv = np.round(future * expected_spend(spend, x, value), 2)
    cuts = artefacts["cuts"]
    segment = np.full(len(clv), "low", dtype=object)
    for name in ("medium", "high", "top"):  # the highest segment reached wins
        if cuts[f"{name}AtLeast"] is not None:
            segment = np.where(clv >= cuts[f"{name}AtLeast"], name, segment)
    orders = x + 1
    net_spend = np.round(value * orders, 2)  # the average was taken over net cents
    valuable = _in_top(net_spend, cuts["netSpendAtLeast"], cuts["netSpendAbove"]) | _in_top(
        orders, cuts["ordersAtLeast"], cuts["ordersAbove"]
    )
    return {
        "expected_purchases_12m": future,
        "p_alive": alive,
        "clv_12m": clv,
        "next_best_action": next_best_actions(segment, alive, valuable),
    }


def _in_top(values, at_least, above):
    if at_least is None:
        return np.zeros(len(values), dtype=bool)
    return (values >= at_least) & (values > above)
