-- One row per order: typed, with country codes upper-cased.
select
    order_id,
    customer_id,
    upper(country) as country,
    cast(amount as double) as amount,
    cast(order_date as date) as order_date
from exports
