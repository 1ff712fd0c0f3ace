{{ config(schema='reporting') }}
select category, count(*) as orders, sum(amount) as revenue
from {{ ref('order_facts') }}
group by category
