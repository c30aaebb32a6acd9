"""Customer lifetime value: BG/NBD expected purchases times Gamma-Gamma order value, net of returns.

Measured as of the newest purchase in the data (the end of the calibration period), in weeks.
"""

import numpy as np
import pyarrow as pa

from quanta.models.clv import expected_purchases, expected_spend, fit_bgnbd, fit_gamma_gamma, probability_alive

HORIZON_WEEKS = 52


def build(inputs, info):
    history = inputs.sql("""
        with lines as (
            select p.customer_id, p.order_id, p.order_ts,
                   p.amount - coalesce(p.unit_price * r.quantity, 0) as net
            from purchases p left join returns r using (order_line_id)
        ),
        orders as (
            select customer_id, order_id, min(order_ts) as ordered_at, sum(net) as value
            from lines group by customer_id, order_id
        ),
        as_of as (select max(ordered_at) as at from orders)
        select o.customer_id,
               count(*) - 1 as repeats,
               date_diff('second', min(o.ordered_at), max(o.ordered_at)) / 604800.0 as recency,
               date_diff('second', min(o.ordered_at), any_value(a.at)) / 604800.0 as age,
               greatest(avg(o.value), 0.01) as order_value,
               count(*) as orders
        from orders o, as_of a
        group by o.customer_id
        order by o.customer_id
    """)
    x = history.column("repeats").to_numpy().astype(float)
    t_x = history.column("recency").to_numpy().astype(float)
    age = history.column("age").to_numpy().astype(float)
    value = history.column("order_value").to_numpy().astype(float)
    purchases_model = fit_bgnbd(x, t_x, age)
    spend_model = fit_gamma_gamma(x, value)
    alive = probability_alive(purchases_model, x, t_x, age)
    future = expected_purchases(purchases_model, HORIZON_WEEKS, x, t_x, age)
    order_value = expected_spend(spend_model, x, value)
    clv = np.round(future * order_value, 2)
    rank = np.argsort(np.argsort(-clv, kind="stable"), kind="stable") / max(len(clv), 1)
    segment = np.where(rank < 0.05, "top", np.where(rank < 0.20, "high", np.where(rank < 0.50, "medium", "low")))
    action = np.where(np.isin(segment, ["top", "high"]), np.where(alive > 0.5, "retain-vip", "win-back"),
                      np.where(segment == "medium", "nurture", "no-action"))
    scores = pa.table({
        "customer_id": history.column("customer_id"),
        "orders": history.column("orders"),
        "p_alive": pa.array(alive),
        "expected_purchases_12m": pa.array(future),
        "expected_order_value": pa.array(np.round(order_value, 2)),
        "clv_12m": pa.array(clv),
        "value_segment": pa.array(segment.tolist()),
        "next_best_action": pa.array(action.tolist()),
    })
    inputs.connection.register("scores", scores)
    table = inputs.sql("""
        select s.customer_id, p.email, p.gender, p.age_band, p.country, p.marketing_consent, s.orders, s.p_alive, s.expected_purchases_12m, s.expected_order_value,
               s.clv_12m, s.value_segment, s.next_best_action
        from scores s left join profiles p using (customer_id)
        order by s.customer_id
    """)
    artefacts = {
        "bgnbd": {"r": purchases_model.r, "alpha": purchases_model.alpha, "a": purchases_model.a,
                  "b": purchases_model.b, "timeUnit": "week"},
        "gammaGamma": {"p": spend_model.p, "q": spend_model.q, "v": spend_model.v},
        "horizonWeeks": HORIZON_WEEKS,
        "customers": len(clv),
    }
    return table, artefacts
