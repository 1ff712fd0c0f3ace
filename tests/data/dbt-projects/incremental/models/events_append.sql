{{ config(incremental_strategy='append') }}
select event_id, user_id, kind, amount, loaded_at
from {{ ref('events') }}
{% if is_incremental() %}
where loaded_at > (select max(loaded_at) from {{ this }})
{% endif %}
