select order_id, customer_id, product_id, amount, ordered_at
from {{ ref('orders') }}
where amount > 0
