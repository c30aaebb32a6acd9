"""Product recommendations: item-to-item co-purchase, evaluated against most-popular on every build."""

import numpy as np
import pyarrow as pa

from quanta.models.recommend import evaluate, fit_item_neighbours, purchase_matrix, recommend

TOP_N = 10
NEIGHBOURS = 50
GROUPS = ["F", "M", "X"]  # customer gender → row of `allowed`


def build(inputs, info):
    people = inputs.sql("select customer_id, gender from profiles order by customer_id")
    items = inputs.sql("select sku, target_gender, status from products order by sku")
    lines = inputs.sql("""
        with c as (select customer_id, row_number() over (order by customer_id) - 1 as customer from profiles),
             i as (select sku, row_number() over (order by sku) - 1 as item from products)
        select c.customer, i.item, dense_rank() over (order by p.order_ts, p.order_id) as basket
        from purchases p join c using (customer_id) join i using (sku)
    """)
    shape = (people.num_rows, items.num_rows)
    customer = lines.column("customer").to_numpy()
    item = lines.column("item").to_numpy()
    target = np.asarray(items.column("target_gender").to_pylist())
    active = np.asarray(items.column("status").to_pylist()) == "active"
    allowed = np.stack([active & (target != "M"), active & (target != "F"), active])  # never the wrong gender
    group = np.asarray([GROUPS.index(g) for g in people.column("gender").to_pylist()])

    evaluation = evaluate(customer, item, lines.column("basket").to_numpy(), shape, allowed, group, TOP_N, NEIGHBOURS)
    purchases = purchase_matrix(customer, item, shape)
    chosen = recommend(fit_item_neighbours(purchases, NEIGHBOURS), purchases, allowed, group, TOP_N)

    skus = np.asarray(items.column("sku").to_pylist())
    reason = np.where(chosen.because >= 0, np.char.add("bought with ", skus[np.maximum(chosen.because, 0)]), "popular")
    table = pa.table({
        "customer_id": pa.array(np.asarray(people.column("customer_id").to_pylist())[chosen.customer]),
        "rank": pa.array(chosen.rank, pa.int64()),
        "sku": pa.array(skus[chosen.item]),
        "score": pa.array(np.round(chosen.score, 6)),
        "reason": pa.array(reason.tolist()),
    })
    artefacts = {
        "model": {"method": "item-to-item co-purchase, P(j | i)", "neighbours": NEIGHBOURS, "topN": TOP_N},
        "evaluation": {
            "method": "hold out each repeat customer's last basket; hit if a new item of it is in the top 10",
            "customers": evaluation.customers,
            "hitRateAt10": round(evaluation.hit_rate, 4),
            "mostPopularHitRateAt10": round(evaluation.baseline_hit_rate, 4),
            "lift": round(evaluation.lift, 3),
        },
    }
    return table, artefacts
