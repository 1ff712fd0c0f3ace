{{ config(alias='customer_orders') }}
select c.customer_id, c.customer_name, c.country,
       count(f.order_id) as orders, coalesce(sum(f.amount), 0) as revenue
from {{ ref('stg_customers') }} c
left join {{ ref('order_facts') }} f using (customer_id)
group by all
