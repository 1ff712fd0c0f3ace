-- Silver: one row per piece of equipment (from the sensor register) with its
-- maintenance history rolled up: work-order counts, unplanned work, downtime and cost.

with equipment as (

    select distinct equipment_id from {{ ref('stg_sensors') }}

),

work_orders as (

    select * from {{ ref('stg_maintenance') }}

)

select
    e.equipment_id,
    cast(count(w.work_order_id) as integer)                                         as maintenance_count,
    cast(count(case when w.maintenance_type = 'preventive' then 1 end) as integer)  as preventive_count,
    cast(count(case when w.is_unplanned then 1 end) as integer)                     as unplanned_count,
    cast(count(case when not w.is_completed then 1 end) as integer)                 as open_work_order_count,
    cast(coalesce(sum(w.downtime_minutes), 0) as integer)                           as total_downtime_minutes,
    cast(coalesce(sum(w.cost), 0) as decimal(18, 2))                                as total_maintenance_cost,
    max(w.started_at)                                                               as last_maintenance_at
from equipment as e
left join work_orders as w
    on e.equipment_id = w.equipment_id
group by e.equipment_id
