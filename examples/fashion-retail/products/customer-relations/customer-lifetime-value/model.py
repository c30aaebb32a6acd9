"""Customer lifetime value: BG/NBD expected purchases times Gamma-Gamma order value, net of returns,
with where each customer stands (lifecycle) and what a CRM representative should do next.

Measured as of the newest purchase in the data (the end of the calibration period), in weeks.
Money is summed in whole cents, so the result never depends on the order threads add rows in.
"""

import numpy as np
import pyarrow as pa

from quanta.models.clv import expected_purchases, expected_spend, fit_bgnbd, fit_gamma_gamma, probability_alive

HORIZON_WEEKS = 52
NEW_WEEKS = 13  # a first order this recent makes a customer new
LAPSED_AT_MOST = 0.5  # P(alive) at or below this: probably lapsed
VALUABLE_SHARE = 0.20  # the top 20% by past spend or by orders made a valuable relationship


def build(inputs, info):
    history = inputs.sql("""
        with lines as (
            select p.customer_id, p.order_id, p.order_ts,
                   cast(round((p.amount - coalesce(p.unit_price * r.quantity, 0)) * 100) as bigint) as net_cents
            from purchases p left join returns r using (order_line_id)
        ),
        orders as (
            select customer_id, order_id, min(order_ts) as ordered_at, sum(net_cents) as cents
            from lines group by customer_id, order_id
        ),
        as_of as (select max(ordered_at) as at from orders)
        select o.customer_id,
               count(*) - 1 as repeats,
               date_diff('second', min(o.ordered_at), max(o.ordered_at)) / 604800.0 as recency,
               date_diff('second', min(o.ordered_at), any_value(a.at)) / 604800.0 as age,
               greatest(sum(o.cents) / count(*) / 100, 0.01) as order_value,
               sum(o.cents) / 100 as net_spend,
               min(o.ordered_at) as first_order_at,
               max(o.ordered_at) as last_order_at,
               count(*) as orders
        from orders o, as_of a
        group by o.customer_id
        order by o.customer_id
    """)
    x = history.column("repeats").to_numpy().astype(float)
    t_x = history.column("recency").to_numpy().astype(float)
    age = history.column("age").to_numpy().astype(float)
    value = history.column("order_value").to_numpy().astype(float)
    spend = history.column("net_spend").to_numpy().astype(float)
    purchases_model = fit_bgnbd(x, t_x, age)
    spend_model = fit_gamma_gamma(x, value)
    alive = probability_alive(purchases_model, x, t_x, age)
    future = expected_purchases(purchases_model, HORIZON_WEEKS, x, t_x, age)
    order_value = expected_spend(spend_model, x, value)
    clv = np.round(future * order_value, 2)
    segment = value_segments(clv)
    lifecycle = np.where(age < NEW_WEEKS, "new", np.where(x == 0, "one-off",
                         np.where(alive <= LAPSED_AT_MOST, "lapsed", "active")))
    action = next_best_actions(segment, alive, valuable_history(spend, x + 1))
    scores = pa.table({
        "customer_id": history.column("customer_id"),
        "orders": history.column("orders"),
        "net_spend": history.column("net_spend"),
        "first_order_at": history.column("first_order_at"),
        "last_order_at": history.column("last_order_at"),
        "lifecycle": pa.array(lifecycle.tolist()),
        "p_alive": pa.array(alive),
        "expected_purchases_12m": pa.array(future),
        "expected_order_value": pa.array(np.round(order_value, 2)),
        "clv_12m": pa.array(clv),
        "value_segment": pa.array(segment.tolist()),
        "next_best_action": pa.array(action.tolist()),
    })
    inputs.connection.register("scores", scores)
    table = inputs.sql("""
        select s.customer_id, p.email, p.gender, p.age_band, p.country, p.marketing_consent, s.orders,
               s.net_spend, s.first_order_at, s.last_order_at, s.lifecycle, s.p_alive, s.expected_purchases_12m,
               s.expected_order_value, s.clv_12m, s.value_segment, s.next_best_action
        from scores s left join profiles p using (customer_id)
        order by s.customer_id
    """)
    artefacts = {
        "bgnbd": {"r": purchases_model.r, "alpha": purchases_model.alpha, "a": purchases_model.a,
                  "b": purchases_model.b, "timeUnit": "week"},
        "gammaGamma": {"p": spend_model.p, "q": spend_model.q, "v": spend_model.v},
        "horizonWeeks": HORIZON_WEEKS,
        "customers": len(clv),
        "rules": {"newWeeks": NEW_WEEKS, "lapsedAtMostPAlive": LAPSED_AT_MOST, "valuableShare": VALUABLE_SHARE},
        "cuts": population_cuts(clv, spend, x + 1),
    }
    return table, artefacts


def value_segments(clv):
    """Top 5%, next 15%, next 30% and the rest by predicted value (ties by customer order)."""
    rank = np.argsort(np.argsort(-clv, kind="stable"), kind="stable") / max(len(clv), 1)
    return np.where(rank < 0.05, "top", np.where(rank < 0.20, "high", np.where(rank < 0.50, "medium", "low")))


SEGMENT_SHARES = {"top": 0.05, "high": 0.20, "medium": 0.50}


def population_cuts(clv, net_spend, orders):
    """Where this population's segments and valuable histories begin, for scoring customers one by
    one (the model port's score.py): a segment's smallest predicted value, and the smallest past net
    spend and order count in the top ``VALUABLE_SHARE`` with the median each must exceed."""
    n = len(clv)
    ordered = np.sort(clv)[::-1]
    positions = np.arange(n) / max(n, 1)
    cuts = {}
    for segment, share in SEGMENT_SHARES.items():
        k = int(np.sum(positions < share))
        cuts[f"{segment}AtLeast"] = float(ordered[k - 1]) if k else None
    for name, values in (("netSpend", net_spend), ("orders", orders)):
        k = int(np.ceil(VALUABLE_SHARE * n))
        cuts[f"{name}AtLeast"] = float(np.sort(values)[::-1][k - 1]) if 0 < k <= n else None
        cuts[f"{name}Above"] = float(np.median(values))
    return cuts


def valuable_history(net_spend, orders):
    """Customers in the top ``VALUABLE_SHARE`` by past net spend or by orders, ties included: a
    relationship worth winning back even when the model expects little of it any more."""
    return _in_top(net_spend, VALUABLE_SHARE) | _in_top(orders, VALUABLE_SHARE)


def next_best_actions(segment, alive, valuable):
    """retain-vip: top or high predicted value and probably active; win-back: probably lapsed
    (P(alive) ≤ 0.5) and valuable by prediction or by history; nurture: medium predicted value;
    no-action: the rest."""
    predicted = np.isin(segment, ["top", "high"])
    lapsed = alive <= LAPSED_AT_MOST
    return np.where(predicted & ~lapsed, "retain-vip", np.where(lapsed & (predicted | valuable), "win-back",
                    np.where(segment == "medium", "nurture", "no-action")))


def _in_top(values, share):
    """True where fewer than ``share`` of all customers have a strictly greater value, and the value
    is above the median (so a tie shared by most customers is not a top)."""
    ordered = np.sort(values)
    greater = len(values) - np.searchsorted(ordered, values, side="right")
    return (greater < share * len(values)) & (values > np.median(values))
