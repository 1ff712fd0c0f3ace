-- Gold: the counterparty risk dashboard — one row per counterparty with its
-- exposure against its credit limit, market risk (VaR), credit risk
-- (expected loss = gross exposure x PD x 45 % LGD) and a risk flag for the
-- credit-risk committee.

with counterparties as (

    select * from {{ ref('stg_counterparties') }}

),

exposure as (

    select * from {{ ref('int_counterparty_exposure') }}

),

combined as (

    select
        c.counterparty_id,
        c.counterparty_name,
        c.country_code,
        c.sector,
        c.credit_rating,
        c.is_active,
        c.credit_limit,
        e.position_count,
        e.gross_exposure,
        e.net_exposure,
        e.unrealized_pnl,
        e.var_1d_95,
        e.largest_position_exposure,
        cast(
            case c.credit_rating
                when 'AAA' then 0.0001
                when 'AA'  then 0.0002
                when 'A'   then 0.0006
                when 'BBB' then 0.0020
                when 'BB'  then 0.0100
                when 'B'   then 0.0400
                when 'CCC' then 0.1500
            end as decimal(10, 6)
        ) as probability_of_default
    from counterparties as c
    inner join exposure as e
        on c.counterparty_id = e.counterparty_id

),

scored as (

    select
        *,
        cast(round(gross_exposure / credit_limit, 4) as double) as limit_utilization
    from combined

)

select
    counterparty_id,
    counterparty_name,
    country_code,
    sector,
    credit_rating,
    is_active,
    credit_limit,
    position_count,
    gross_exposure,
    net_exposure,
    unrealized_pnl,
    var_1d_95,
    largest_position_exposure,
    limit_utilization,
    cast(credit_limit - gross_exposure as decimal(18, 2)) as limit_headroom,
    probability_of_default,
    cast(
        round(cast(gross_exposure as decimal(38, 2)) * probability_of_default * cast(0.45 as decimal(3, 2)), 2)
        as decimal(18, 2)
    ) as expected_loss,
    cast(
        case
            when limit_utilization > 1.0 then 'breach'
            when limit_utilization >= 0.8 or credit_rating in ('B', 'CCC') then 'watch'
            else 'ok'
        end as varchar
    ) as risk_flag
from scored
