-- Silver: one row per counterparty (including those without open positions)
-- with its valued positions aggregated into gross / net exposure, unrealised P&L
-- and undiversified VaR (the sum of the position VaRs).

with counterparties as (

    select counterparty_id from {{ ref('stg_counterparties') }}

),

valuations as (

    select * from {{ ref('int_position_valuations') }}

)

select
    c.counterparty_id,
    cast(count(v.position_id) as integer)                             as position_count,
    cast(count(case when v.quantity < 0 then 1 end) as integer)       as short_position_count,
    cast(coalesce(sum(v.gross_exposure), 0) as decimal(18, 2))        as gross_exposure,
    cast(coalesce(sum(v.market_value), 0) as decimal(18, 2))          as net_exposure,
    cast(coalesce(sum(v.unrealized_pnl), 0) as decimal(18, 2))        as unrealized_pnl,
    cast(coalesce(sum(v.var_1d_95), 0) as decimal(18, 2))             as var_1d_95,
    cast(coalesce(max(v.gross_exposure), 0) as decimal(18, 2))        as largest_position_exposure
from counterparties as c
left join valuations as v
    on c.counterparty_id = v.counterparty_id
group by c.counterparty_id
