-- Bronze: one row per sensor installed on a piece of equipment.
-- Trims / normalises the asset-register export and removes the duplicated row.

with source as (

    select * from {{ ref('raw_sensors') }}

),

cleaned as (

    select
        cast(upper(trim(sensor_id)) as {{ dbt.type_string() }})       as sensor_id,
        cast(upper(trim(equipment_id)) as {{ dbt.type_string() }})    as equipment_id,
        cast(trim(equipment_name) as {{ dbt.type_string() }})         as equipment_name,
        cast(upper(trim(production_line)) as {{ dbt.type_string() }}) as production_line,
        cast(lower(trim(sensor_type)) as {{ dbt.type_string() }})     as sensor_type,
        cast(lower(trim(unit)) as {{ dbt.type_string() }})            as unit,
        cast(min_threshold as decimal(10, 2))                         as min_threshold,
        cast(max_threshold as decimal(10, 2))                         as max_threshold,
        cast(installed_on as date)                                    as installed_on,
        cast(is_active as boolean)                                    as is_active,
        cast(_loaded_at as timestamp)                                 as _loaded_at
    from source
    where sensor_id is not null

),

deduplicated as (

    select *
    from (
        select
            cleaned.*,
            row_number() over (partition by sensor_id order by _loaded_at desc) as _row_number
        from cleaned
    ) as ranked
    where _row_number = 1

)

select
    sensor_id,
    equipment_id,
    equipment_name,
    production_line,
    sensor_type,
    unit,
    min_threshold,
    max_threshold,
    installed_on,
    is_active,
    _loaded_at
from deduplicated
