"""Product recommendations: item-to-item co-purchase, evaluated against most-popular on every build."""

import numpy as np
import pyarrow as pa

from quanta.models.recommend import evaluate, fit_item_neighbours, purchase_matrix, recommend

TOP_N = 10
NEIGHBOURS = 50
GROUPS = ["F", "M", "X"]  # customer gender → row of `allowed`


def build(inputs, info):
    people = inputs.sql("select gender from profiles order by customer_id")
    items = inputs.sql("select target_gender, status from products order by sku")
    lines = inputs.sql("""
        with c as (select customer_id, row_number() over (order by customer_id) - 1 as customer from profiles),
             i as (select sku, row_number() over (order by sku) - 1 as item from products)
        select c.customer, i.item, dense_rank() over (order by p.order_ts, p.order_id) as basket
        from purchases p join c using (customer_id) join i using (sku)
    """)
    shape = (people.num_rows, items.num_rows)
    customer = lines.column("customer").to_numpy()
    item = lines.column("item").to_numpy()
    target = items.column("target_gender").to_numpy(zero_copy_only=False)
    active = items.column("status").to_numpy(zero_copy_only=False) == "active"
    allowed = np.stack([active & (target != "M"), active & (target != "F"), active])  # never the wrong gender
    gender = people.column("gender").to_numpy(zero_copy_only=False)
    group = np.select([gender == g for g in GROUPS], range(len(GROUPS)), default=GROUPS.index("X"))

    evaluation = evaluate(customer, item, lines.column("basket").to_numpy(), shape, allowed, group, TOP_N, NEIGHBOURS)
    purchases = purchase_matrix(customer, item, shape)
    chosen = recommend(fit_item_neighbours(purchases, NEIGHBOURS), purchases, allowed, group, TOP_N)

    inputs.connection.register("chosen", pa.table({
        "customer": chosen.customer,
        "rank": pa.array(chosen.rank, pa.int64()),
        "item": chosen.item,
        "score": np.round(chosen.score, 6),
        "because": chosen.because,
    }))
    table = inputs.relation("""
        with c as (select customer_id, row_number() over (order by customer_id) - 1 as customer from profiles),
             i as (select sku, row_number() over (order by sku) - 1 as item from products)
        select c.customer_id, r.rank, i.sku, r.score,
               case when r.because >= 0 then 'bought with ' || b.sku else 'popular' end as reason
        from chosen r join c using (customer) join i using (item) left join i as b on b.item = r.because
        order by c.customer_id, r.rank
    """)
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
