-- Bronze: one row per trading counterparty.
-- Normalises ratings, sectors and country codes and keeps only the most recently
-- loaded version of each counterparty (the raw file contains an exact duplicate
-- and an overnight rating downgrade).

with source as (

    select * from {{ ref('raw_counterparties') }}

),

cleaned as (

    select
        cast(upper(trim(counterparty_id)) as varchar) as counterparty_id,
        cast(trim(counterparty_name) as varchar)      as counterparty_name,
        cast(upper(trim(country_code)) as varchar)    as country_code,
        cast(lower(trim(sector)) as varchar)          as sector,
        cast(upper(trim(credit_rating)) as varchar)   as credit_rating,
        cast(credit_limit as decimal(18, 2))          as credit_limit,
        cast(is_active as boolean)                    as is_active,
        cast(onboarded_on as date)                    as onboarded_on,
        cast(_loaded_at as timestamp)                 as _loaded_at
    from source
    where counterparty_id is not null

),

deduplicated as (

    select *
    from cleaned
    qualify row_number() over (partition by counterparty_id order by _loaded_at desc) = 1

)

select
    counterparty_id,
    counterparty_name,
    country_code,
    sector,
    credit_rating,
    credit_limit,
    is_active,
    onboarded_on,
    _loaded_at
from deduplicated
