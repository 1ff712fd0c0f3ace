{{ config(materialized='table') }}
select cast(range as integer) as day_offset from range(0, 7)
