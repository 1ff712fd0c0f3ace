-- Bronze: one row per instrument and business day of end-of-day market data.
-- Normalises instrument ids and asset classes, removes the duplicated row and
-- drops quotes without a (positive) close price. All prices are in EUR.

with source as (

    select * from {{ ref('raw_market_data') }}

),

cleaned as (

    select
        cast(upper(trim(instrument_id)) as varchar) as instrument_id,
        cast(lower(trim(asset_class)) as varchar)   as asset_class,
        cast(price_date as date)                    as price_date,
        cast(close_price as decimal(18, 4))         as close_price,
        cast(daily_volatility as decimal(10, 6))    as daily_volatility,
        cast(_loaded_at as timestamp)               as _loaded_at
    from source
    where instrument_id is not null

),

deduplicated as (

    select *
    from cleaned
    qualify row_number() over (
        partition by instrument_id, price_date order by _loaded_at desc
    ) = 1

)

select
    cast(instrument_id || '|' || strftime(price_date, '%Y-%m-%d') as varchar) as market_data_id,
    instrument_id,
    asset_class,
    price_date,
    close_price,
    daily_volatility,
    _loaded_at
from deduplicated
where close_price is not null
  and close_price > 0
