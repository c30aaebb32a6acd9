with lines as (
    select p.customer_id, p.order_id, p.order_ts, p.quantity, p.amount, pr.category,
           coalesce(r.quantity, 0) as returned_units,
           case when r.return_id is null then 0 else p.unit_price * r.quantity end as refunded
    from purchases p
    left join returns r using (order_line_id)
    left join products pr on pr.sku = p.sku
),
per_customer as (
    select customer_id, min(order_ts) as first_order_at, max(order_ts) as last_order_at,
           count(distinct order_id) as orders, round(sum(amount) - sum(refunded), 2) as net_spend,
           sum(returned_units) / sum(quantity) as return_rate
    from lines group by customer_id
),
preferred as (
    select customer_id, arg_max(category, units) as preferred_category
    from (select customer_id, category, sum(quantity) as units from lines group by all)
    group by customer_id
)
select pr.customer_id, pr.first_name, pr.last_name, pr.email, pr.phone, pr.gender, pr.birth_date,
       case when age < 25 then '<25' when age < 35 then '25-34' when age < 45 then '35-44'
            when age < 55 then '45-54' when age < 65 then '55-64' else '65+' end as age_band,
       pr.country, pr.signup_date, pr.marketing_consent,
       c.first_order_at, c.last_order_at, coalesce(c.orders, 0) as orders,
       coalesce(c.net_spend, 0) as net_spend, c.return_rate, f.preferred_category
from (select *, date_diff('year', birth_date, current_date) as age from profiles) pr
left join per_customer c using (customer_id)
left join preferred f using (customer_id)
