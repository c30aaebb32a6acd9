select sku, brand, department, category, style, target_gender, size, colour,
       cast(list_price as double) as list_price, cast(launch_date as date) as launch_date, status
from catalogue
