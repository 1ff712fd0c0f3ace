-- Gold: equipment health — one row per piece of equipment combining its sensors,
-- the anomaly rate of their readings and its maintenance history into a single
-- health status for the plant's reliability engineers.

with equipment as (

    select
        equipment_id,
        min(equipment_name)                                    as equipment_name,
        min(production_line)                                   as production_line,
        count(*)                                               as sensor_count,
        count(case when is_active then 1 end)                  as active_sensor_count
    from {{ ref('stg_sensors') }}
    group by equipment_id

),

readings as (

    select
        equipment_id,
        count(*)                               as reading_count,
        count(case when is_anomaly then 1 end) as anomaly_count,
        max(reading_at)                        as last_reading_at
    from {{ ref('int_readings_enriched') }}
    group by equipment_id

),

maintenance as (

    select * from {{ ref('int_equipment_maintenance') }}

),

combined as (

    select
        e.equipment_id,
        e.equipment_name,
        e.production_line,
        cast(e.sensor_count as integer)                  as sensor_count,
        cast(e.active_sensor_count as integer)           as active_sensor_count,
        cast(coalesce(r.reading_count, 0) as integer)    as reading_count,
        cast(coalesce(r.anomaly_count, 0) as integer)    as anomaly_count,
        r.last_reading_at,
        m.maintenance_count,
        m.unplanned_count                                as unplanned_maintenance_count,
        m.open_work_order_count,
        m.total_downtime_minutes,
        m.total_maintenance_cost,
        m.last_maintenance_at
    from equipment as e
    left join readings as r
        on e.equipment_id = r.equipment_id
    left join maintenance as m
        on e.equipment_id = m.equipment_id

),

scored as (

    select
        *,
        cast(
            case when reading_count = 0 then 0 else round(anomaly_count / reading_count, 4) end
            as double
        ) as anomaly_rate
    from combined

)

select
    equipment_id,
    equipment_name,
    production_line,
    sensor_count,
    active_sensor_count,
    reading_count,
    anomaly_count,
    anomaly_rate,
    last_reading_at,
    maintenance_count,
    unplanned_maintenance_count,
    open_work_order_count,
    total_downtime_minutes,
    total_maintenance_cost,
    last_maintenance_at,
    cast(
        case
            when anomaly_rate >= 0.25 or unplanned_maintenance_count >= 2 then 'critical'
            when anomaly_count >= 1 or unplanned_maintenance_count >= 1 then 'warning'
            else 'healthy'
        end as {{ dbt.type_string() }}
    ) as health_status
from scored
