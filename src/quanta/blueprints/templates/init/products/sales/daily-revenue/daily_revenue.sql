-- Revenue per day and country.
select order_date, country, sum(amount) as revenue, count(*) as orders
from orders
group by order_date, country
