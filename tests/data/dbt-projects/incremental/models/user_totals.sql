{{ config(incremental_strategy='delete+insert', unique_key='user_id') }}
select user_id, count(*) as events, sum(amount) as amount, max(loaded_at) as last_loaded_at
from {{ ref('events') }}
{% if is_incremental() %}
where user_id in (
    select user_id from {{ ref('events') }}
    where loaded_at > (select max(last_loaded_at) from {{ this }})
)
{% endif %}
group by user_id
