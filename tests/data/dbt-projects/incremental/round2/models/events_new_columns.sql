{{ config(unique_key='event_id', on_schema_change='append_new_columns') }}
select event_id, kind, loaded_at, amount, upper(kind) as kind_code
from {{ ref('events') }}
{% if is_incremental() %}
where loaded_at > (select max(loaded_at) from {{ this }})
{% endif %}
