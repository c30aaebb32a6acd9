-- Returns registered more than 60 days after the order are outside the return window: they
-- were refused in the shop and must not count against revenue.
select r.return_id, r.order_line_id, p.sku, cast(r.returned_at as date) as returned_at, r.reason,
       cast(r.quantity as bigint) as quantity,
       date_diff('day', cast(p.order_ts as date), cast(r.returned_at as date)) as days_after_order
from returns_export r
join purchases p using (order_line_id)
where date_diff('day', cast(p.order_ts as date), cast(r.returned_at as date)) between 0 and 60
