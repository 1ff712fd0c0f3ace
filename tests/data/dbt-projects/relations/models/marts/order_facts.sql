{{ config(materialized='ephemeral') }}
select o.order_id, o.customer_id, o.amount, p.category
from {{ ref('stg_orders') }} o
join {{ ref('stg_products') }} p using (product_id)
