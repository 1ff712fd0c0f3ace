{{ config(unique_key='event_id', on_schema_change='sync_all_columns') }}
select event_id, kind, amount, loaded_at
from {{ ref('events') }}
{% if is_incremental() %}
where loaded_at > (select max(loaded_at) from {{ this }})
{% endif %}
