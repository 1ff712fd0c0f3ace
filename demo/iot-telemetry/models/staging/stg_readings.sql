-- Bronze: one row per sensor reading.
-- Normalises sensor ids and quality flags, removes the duplicated reading and
-- drops dropouts (readings without a value).

with source as (

    select * from {{ ref('raw_readings') }}

),

cleaned as (

    select
        cast(upper(trim(reading_id)) as {{ dbt.type_string() }})   as reading_id,
        cast(upper(trim(sensor_id)) as {{ dbt.type_string() }})    as sensor_id,
        cast(reading_at as timestamp)                              as reading_at,
        cast(value as decimal(10, 2))                              as reading_value,
        cast(lower(trim(quality_flag)) as {{ dbt.type_string() }}) as quality_flag,
        cast(_loaded_at as timestamp)                              as _loaded_at
    from source
    where reading_id is not null

),

deduplicated as (

    select *
    from (
        select
            cleaned.*,
            row_number() over (partition by reading_id order by _loaded_at desc) as _row_number
        from cleaned
    ) as ranked
    where _row_number = 1

)

select
    reading_id,
    sensor_id,
    reading_at,
    reading_value,
    quality_flag,
    _loaded_at
from deduplicated
where reading_value is not null
