{{ config(
    post_hook="delete from {{ this }} where amount < {{ var('min_amount') }}",
    pre_hook="select 1"
) }}
select
    payment_id,
    account_id,
    amount,
    {{ net_amount('amount', 'fee') }} as net_amount,
    {{ corpus_helpers.to_cents('amount') }} as amount_cents,
    {{ currency_label() }} as currency
from {{ ref('payments') }}
