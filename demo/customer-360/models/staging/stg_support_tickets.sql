-- Bronze: one row per customer-service ticket.
-- Normalises the free-text enumerations (channel, category, priority, status)
-- and removes the duplicated ticket row.

with source as (

    select * from {{ ref('raw_support_tickets') }}

),

cleaned as (

    select
        cast(upper(trim(ticket_id)) as varchar)   as ticket_id,
        cast(upper(trim(customer_id)) as varchar) as customer_id,
        cast(opened_at as timestamp)              as opened_at,
        cast(closed_at as timestamp)              as closed_at,
        cast(lower(trim(channel)) as varchar)     as channel,
        cast(lower(trim(category)) as varchar)    as category,
        cast(lower(trim(priority)) as varchar)    as priority,
        cast(lower(trim(status)) as varchar)      as status,
        cast(satisfaction_score as integer)       as satisfaction_score,
        cast(_loaded_at as timestamp)             as _loaded_at
    from source
    where ticket_id is not null

),

deduplicated as (

    select *
    from cleaned
    qualify row_number() over (partition by ticket_id order by _loaded_at desc) = 1

)

select
    ticket_id,
    customer_id,
    opened_at,
    closed_at,
    channel,
    category,
    priority,
    status,
    satisfaction_score,
    _loaded_at
from deduplicated
