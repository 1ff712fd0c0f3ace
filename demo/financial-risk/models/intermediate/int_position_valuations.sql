-- Silver (incremental): one row per position, marked to market at the close of
-- its as_of_date, with exposure, unrealised P&L and a 1-day 95 % parametric VaR
-- (|market value| x daily volatility x 1.65).
-- Incremental runs only revalue positions loaded at or after the newest
-- _loaded_at already in the table; unique_key makes the re-merge idempotent.

{{ config(materialized='incremental', unique_key='position_id') }}

with positions as (

    select * from {{ ref('stg_positions') }}
    {% if is_incremental() %}
    where _loaded_at >= (
        select coalesce(max(_loaded_at), timestamp '1900-01-01 00:00:00') from {{ this }}
    )
    {% endif %}

),

prices as (

    select * from {{ ref('stg_market_data') }}

),

valued as (

    select
        p.position_id,
        p.counterparty_id,
        p.instrument_id,
        m.asset_class,
        p.book,
        p.as_of_date,
        p.quantity,
        p.entry_price,
        m.close_price,
        m.daily_volatility,
        cast(round(cast(p.quantity as decimal(38, 4)) * m.close_price, 2) as decimal(18, 2))
            as market_value,
        cast(round(cast(p.quantity as decimal(38, 4)) * (m.close_price - p.entry_price), 2) as decimal(18, 2))
            as unrealized_pnl,
        p._loaded_at
    from positions as p
    inner join prices as m
        on  p.instrument_id = m.instrument_id
        and p.as_of_date = m.price_date

)

select
    position_id,
    counterparty_id,
    instrument_id,
    asset_class,
    book,
    as_of_date,
    quantity,
    entry_price,
    close_price,
    daily_volatility,
    market_value,
    cast(abs(market_value) as decimal(18, 2)) as gross_exposure,
    unrealized_pnl,
    cast(
        round(cast(abs(market_value) as decimal(38, 2)) * daily_volatility * cast(1.65 as decimal(3, 2)), 2)
        as decimal(18, 2)
    ) as var_1d_95,
    _loaded_at
from valued
