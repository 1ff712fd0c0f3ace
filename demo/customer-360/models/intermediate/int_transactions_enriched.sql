-- Silver (incremental): one row per transaction, enriched with the customer's
-- segment and country and split into revenue / refunded amounts.
-- On incremental runs only rows loaded at or after the newest _loaded_at already
-- in the table are reprocessed; unique_key makes the re-merge idempotent.

{{ config(materialized='incremental', unique_key='transaction_id') }}

with transactions as (

    select * from {{ ref('stg_transactions') }}
    {% if is_incremental() %}
    where _loaded_at >= (
        select coalesce(max(_loaded_at), timestamp '1900-01-01 00:00:00') from {{ this }}
    )
    {% endif %}

),

customers as (

    select customer_id, segment, country_code from {{ ref('stg_customers') }}

)

select
    t.transaction_id,
    t.customer_id,
    c.segment                                  as customer_segment,
    c.country_code                             as customer_country_code,
    t.transaction_at,
    cast(t.transaction_at as date)             as transaction_date,
    t.amount,
    t.channel,
    t.status,
    (t.status = 'completed')                   as is_completed,
    cast(case when t.status = 'completed' then t.amount else 0 end as decimal(18, 2)) as revenue_amount,
    cast(case when t.status = 'refunded'  then t.amount else 0 end as decimal(18, 2)) as refunded_amount,
    t._loaded_at
from transactions as t
inner join customers as c
    on t.customer_id = c.customer_id
