-- A dense grid (every sold item × every week of the history) so that trailing averages and the
-- 52-week lag count quiet weeks as zero. Returns are netted, at what the returns system refunded,
-- from the week of the order. Money is summed in whole cents, so the sums never depend on the order
-- in which threads add them.
with refunded as (
    select order_line_id, sum(refund_amount) as refund from returns group by order_line_id
),
lines as (
    select p.sku, cast(date_trunc('week', p.order_ts) as date) as week, p.quantity,
           cast(round((p.amount - coalesce(r.refund, 0)) * 100) as bigint) as net_cents
    from purchases p left join refunded r using (order_line_id)
),
sold as (
    select sku, week, sum(quantity) as units, sum(net_cents) / 100 as net_revenue from lines group by sku, week
),
weeks as (
    select cast(unnest(generate_series(min(week), max(week), interval 7 day)) as date) as week from sold
),
grid as (
    select i.sku, i.category, w.week
    from (select distinct sku from sold) s join products i using (sku) cross join weeks w
),
filled as (
    select g.sku, g.week, g.category, coalesce(s.units, 0) as units, round(coalesce(s.net_revenue, 0), 2) as net_revenue
    from grid g left join sold s using (sku, week)
)
select sku, week, category, units, net_revenue,
       round(avg(units) over last_4, 4) as units_4w_avg,
       round(avg(net_revenue) over last_4, 2) as net_revenue_4w_avg,
       lag(units, 52) over by_week as units_last_year,
       lag(net_revenue, 52) over by_week as net_revenue_last_year,
       round(units / nullif(lag(units, 52) over by_week, 0) - 1, 4) as units_yoy_change
from filled
window by_week as (partition by sku order by week),
       last_4 as (partition by sku order by week rows between 3 preceding and current row)
order by sku, week
