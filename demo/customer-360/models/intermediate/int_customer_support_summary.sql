-- Silver: one row per customer (including customers who never contacted
-- support) with their ticket volume, backlog and satisfaction.

with customers as (

    select customer_id from {{ ref('stg_customers') }}

),

tickets as (

    select * from {{ ref('stg_support_tickets') }}

)

select
    c.customer_id,
    cast(count(t.ticket_id) as integer)                                           as ticket_count,
    cast(count(case when t.status in ('open', 'pending') then 1 end) as integer)  as open_ticket_count,
    cast(count(case when t.status = 'closed' then 1 end) as integer)              as closed_ticket_count,
    cast(count(case when t.priority in ('high', 'urgent') then 1 end) as integer) as high_priority_ticket_count,
    cast(round(avg(t.satisfaction_score), 2) as double)                           as avg_satisfaction_score,
    cast(round(avg(
        case when t.status = 'closed'
             then (epoch(t.closed_at) - epoch(t.opened_at)) / 3600.0
        end
    ), 2) as double)                                                              as avg_resolution_hours,
    max(t.opened_at)                                                              as last_ticket_opened_at
from customers as c
left join tickets as t
    on c.customer_id = t.customer_id
group by c.customer_id
