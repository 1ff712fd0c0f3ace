select o.order_date, count(*) as orders, sum(o.amount) as revenue, count(distinct t.customer_id) as customers
from {{ ref('stg_orders') }} o
join {{ ref('int_customer_totals') }} t on t.customer_id = o.customer_id
group by o.order_date
