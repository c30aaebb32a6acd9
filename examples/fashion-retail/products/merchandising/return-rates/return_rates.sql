-- Rates are units returned over units sold; categories and sizes are pooled over their items, so a
-- rarely sold item does not weigh as much as a best seller.
with sold as (
    select sku, sum(quantity) as units_sold from purchases group by sku
),
reasons as (
    select sku, reason, sum(quantity) as units from returns group by sku, reason
),
returned as (
    select sku,
           sum(units) as units_returned,
           coalesce(sum(units) filter (where reason = 'too small'), 0) as too_small,
           coalesce(sum(units) filter (where reason = 'too large'), 0) as too_large,
           first(reason order by units desc, reason) as main_reason
    from reasons group by sku
),
items as (
    select p.sku, p.brand, p.category, p.size, p.target_gender, p.status,
           coalesce(s.units_sold, 0) as units_sold,
           coalesce(r.units_returned, 0) as units_returned,
           r.main_reason, coalesce(r.too_small, 0) as too_small, coalesce(r.too_large, 0) as too_large
    from products p
    left join sold s using (sku)
    left join returned r using (sku)
),
rates as (
    select *,
           units_returned / nullif(units_sold, 0) as return_rate,
           sum(units_returned) over (partition by category)
               / nullif(sum(units_sold) over (partition by category), 0) as category_return_rate,
           sum(units_returned) over (partition by category, size)
               / nullif(sum(units_sold) over (partition by category, size), 0) as size_return_rate
    from items
)
select sku, brand, category, size, target_gender, status, units_sold, units_returned,
       round(return_rate, 4) as return_rate,
       round(category_return_rate, 4) as category_return_rate,
       round(size_return_rate, 4) as size_return_rate,
       main_reason,
       case when units_returned >= 5 and too_small >= 0.4 * units_returned then 'runs small'
            when units_returned >= 5 and too_large >= 0.4 * units_returned then 'runs large' end as sizing_signal,
       coalesce(units_sold >= 20 and return_rate >= 1.5 * category_return_rate, false) as delisting_candidate
from rates
order by sku
