-- Bronze: one row per valid point-of-sale / web-shop transaction.
-- Normalises ids, channel and status values, removes the duplicated row and
-- drops transactions whose amount is missing or negative (data-entry errors).

with source as (

    select * from {{ ref('raw_transactions') }}

),

cleaned as (

    select
        cast(upper(trim(transaction_id)) as varchar) as transaction_id,
        cast(upper(trim(customer_id)) as varchar)    as customer_id,
        cast(transaction_at as timestamp)            as transaction_at,
        cast(amount as decimal(18, 2))               as amount,
        cast(lower(trim(channel)) as varchar)        as channel,
        cast(lower(trim(status)) as varchar)         as status,
        cast(_loaded_at as timestamp)                as _loaded_at
    from source
    where transaction_id is not null

),

deduplicated as (

    select *
    from cleaned
    qualify row_number() over (partition by transaction_id order by _loaded_at desc) = 1

)

select
    transaction_id,
    customer_id,
    transaction_at,
    amount,
    channel,
    status,
    _loaded_at
from deduplicated
where amount is not null
  and amount >= 0
