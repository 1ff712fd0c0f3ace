select line, avg(celsius) as avg_celsius, count(*) as readings
from {{ ref('stg_readings') }}
group by line
