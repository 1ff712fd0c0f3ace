-- Silver (incremental): one row per reading, joined to its sensor and equipment
-- and flagged as an anomaly when the value falls outside the sensor's
-- [min_threshold, max_threshold] operating band.
-- Incremental runs only reprocess readings loaded at or after the newest
-- _loaded_at already in the table; unique_key makes the re-merge idempotent.

{{ config(materialized='incremental', unique_key='reading_id') }}

with readings as (

    select * from {{ ref('stg_readings') }}
    {% if is_incremental() %}
    where _loaded_at >= (
        select coalesce(max(_loaded_at), timestamp '1900-01-01 00:00:00') from {{ this }}
    )
    {% endif %}

),

sensors as (

    select * from {{ ref('stg_sensors') }}

)

select
    r.reading_id,
    r.sensor_id,
    s.equipment_id,
    s.sensor_type,
    s.unit,
    r.reading_at,
    r.reading_value,
    s.min_threshold,
    s.max_threshold,
    r.quality_flag,
    (r.reading_value < s.min_threshold or r.reading_value > s.max_threshold) as is_anomaly,
    r._loaded_at
from readings as r
inner join sensors as s
    on r.sensor_id = s.sensor_id
