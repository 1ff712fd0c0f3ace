select
    a.account_id,
    a.plan,
    o.owner,
    o.region,
    count(p.payment_id) as payments,
    coalesce(sum(p.net_amount), 0) as net_revenue
from {{ ref('accounts') }} a
join {{ source('crm', 'accounts') }} o using (account_id)
left join {{ ref('payments_clean') }} p using (account_id)
group by all
