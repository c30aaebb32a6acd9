-- The daily drops repeat some lines (a re-sent file chunk): keep one row per order line, the same one
-- on every build (the ordering leaves no tie between lines that differ).
select order_line_id, order_id, customer_id, sku,
       cast(quantity as bigint) as quantity,
       cast(unit_price as double) as unit_price,
       round(quantity * unit_price, 2) as amount,
       cast(order_ts as timestamp) as order_ts
from order_drops
qualify row_number() over (partition by order_line_id order by order_ts, order_id, customer_id, sku, quantity, unit_price) = 1
