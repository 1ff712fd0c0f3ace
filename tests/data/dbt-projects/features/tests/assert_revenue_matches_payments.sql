select 1
from (select sum(net_revenue) as total from {{ ref('account_revenue') }}) r
cross join (select sum(net_amount) as total from {{ ref('payments_clean') }}) p
where r.total != p.total
