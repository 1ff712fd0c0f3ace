-- Gold: the customer 360 — one row per customer combining profile, purchase
-- behaviour and customer-service experience.

with customers as (

    select * from {{ ref('stg_customers') }}

),

orders as (

    select
        customer_id,
        count(case when is_completed then 1 end) as order_count,
        sum(revenue_amount)                      as total_revenue,
        sum(refunded_amount)                     as refunded_amount,
        min(case when is_completed then transaction_at end) as first_order_at,
        max(case when is_completed then transaction_at end) as last_order_at
    from {{ ref('int_transactions_enriched') }}
    group by customer_id

),

support as (

    select * from {{ ref('int_customer_support_summary') }}

),

combined as (

    select
        c.customer_id,
        c.full_name,
        c.email,
        c.country_code,
        c.segment,
        c.signup_date,
        cast(coalesce(o.order_count, 0) as integer)             as order_count,
        cast(coalesce(o.total_revenue, 0) as decimal(18, 2))    as total_revenue,
        cast(coalesce(o.refunded_amount, 0) as decimal(18, 2))  as refunded_amount,
        o.first_order_at,
        o.last_order_at,
        s.ticket_count,
        s.open_ticket_count,
        s.closed_ticket_count,
        s.high_priority_ticket_count,
        s.avg_satisfaction_score
    from customers as c
    left join orders as o
        on c.customer_id = o.customer_id
    left join support as s
        on c.customer_id = s.customer_id

)

select
    customer_id,
    full_name,
    email,
    country_code,
    segment,
    signup_date,
    order_count,
    total_revenue,
    cast(
        case when order_count = 0 then 0 else round(total_revenue / order_count, 2) end
        as decimal(18, 2)
    )                                                         as avg_order_value,
    refunded_amount,
    first_order_at,
    last_order_at,
    ticket_count,
    open_ticket_count,
    closed_ticket_count,
    high_priority_ticket_count,
    avg_satisfaction_score,
    cast(
        case
            when total_revenue >= 1000 then 'high'
            when total_revenue >= 250 then 'medium'
            else 'low'
        end as varchar
    )                                                         as value_tier,
    (open_ticket_count > 0 or coalesce(avg_satisfaction_score, 5) <= 2) as is_at_risk
from combined
