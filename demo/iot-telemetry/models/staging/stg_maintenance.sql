-- Bronze: one row per maintenance work order.
-- Normalises equipment ids and maintenance types, removes the duplicated work
-- order and rejects rows with a negative cost (booking errors).
-- Work orders still in progress keep null completed_at / downtime / cost.

with source as (

    select * from {{ ref('raw_maintenance') }}

),

cleaned as (

    select
        cast(upper(trim(work_order_id)) as {{ dbt.type_string() }})    as work_order_id,
        cast(upper(trim(equipment_id)) as {{ dbt.type_string() }})     as equipment_id,
        cast(lower(trim(maintenance_type)) as {{ dbt.type_string() }}) as maintenance_type,
        cast(started_at as timestamp)                                  as started_at,
        cast(completed_at as timestamp)                                as completed_at,
        cast(downtime_minutes as integer)                              as downtime_minutes,
        cast(cost as decimal(18, 2))                                   as cost,
        cast(trim(technician) as {{ dbt.type_string() }})              as technician,
        cast(_loaded_at as timestamp)                                  as _loaded_at
    from source
    where work_order_id is not null

),

deduplicated as (

    select *
    from (
        select
            cleaned.*,
            row_number() over (partition by work_order_id order by _loaded_at desc) as _row_number
        from cleaned
    ) as ranked
    where _row_number = 1

)

select
    work_order_id,
    equipment_id,
    maintenance_type,
    maintenance_type in ('corrective', 'emergency') as is_unplanned,
    started_at,
    completed_at,
    completed_at is not null                        as is_completed,
    downtime_minutes,
    cost,
    technician,
    _loaded_at
from deduplicated
where cost is null
   or cost >= 0
