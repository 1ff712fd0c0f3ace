-- Bronze: one row per open position in the end-of-day book.
-- Normalises ids and book names, removes the duplicated position and rejects
-- bookings without a quantity. Negative quantities are legitimate short positions.

with source as (

    select * from {{ ref('raw_positions') }}

),

cleaned as (

    select
        cast(upper(trim(position_id)) as varchar)     as position_id,
        cast(upper(trim(counterparty_id)) as varchar) as counterparty_id,
        cast(upper(trim(instrument_id)) as varchar)   as instrument_id,
        cast(quantity as bigint)                      as quantity,
        cast(entry_price as decimal(18, 4))           as entry_price,
        cast(as_of_date as date)                      as as_of_date,
        cast(lower(trim(book)) as varchar)            as book,
        cast(_loaded_at as timestamp)                 as _loaded_at
    from source
    where position_id is not null

),

deduplicated as (

    select *
    from cleaned
    qualify row_number() over (partition by position_id order by _loaded_at desc) = 1

)

select
    position_id,
    counterparty_id,
    instrument_id,
    quantity,
    entry_price,
    as_of_date,
    book,
    _loaded_at
from deduplicated
where quantity is not null
  and quantity <> 0
