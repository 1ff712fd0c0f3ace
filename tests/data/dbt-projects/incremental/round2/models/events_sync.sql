{{ config(unique_key='event_id', on_schema_change='sync_all_columns') }}
select event_id, upper(kind) as kind_code, loaded_at
from {{ ref('events') }}
{% if is_incremental() %}
where loaded_at > (select max(loaded_at) from {{ this }})
{% endif %}
