{{ config(incremental_strategy='merge', unique_key='event_id') }}
select event_id, user_id, kind, amount, loaded_at
from {{ ref('events') }}
{% if is_incremental() %}
where loaded_at >= (select max(loaded_at) from {{ this }})
{% endif %}
