-- The returns system records each return with its order line, the item and the order's day.
-- Returns registered more than 60 days after the order are outside the return window: they were
-- refused in the shop and must not count against revenue.
select return_id, order_line_id, sku, cast(returned_at as date) as returned_at, reason,
       cast(quantity as bigint) as quantity, cast(refund_amount as double) as refund_amount,
       date_diff('day', cast(ordered_on as date), cast(returned_at as date)) as days_after_order
from returns_export
where date_diff('day', cast(ordered_on as date), cast(returned_at as date)) between 0 and 60
