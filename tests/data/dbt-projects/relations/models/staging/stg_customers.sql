select customer_id, upper(trim(name)) as customer_name, country
from {{ ref('customers') }}
