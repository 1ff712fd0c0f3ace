{{ config(unique_key='event_id', on_schema_change='ignore') }}
select event_id, kind, loaded_at, amount
from {{ ref('events') }}
{% if is_incremental() %}
where loaded_at > (select max(loaded_at) from {{ this }})
{% endif %}
