select line, avg_celsius, readings, avg_celsius > 30 as overheating
from {{ ref('int_sensor_stats') }}
