select s.site_id, s.region, g.region_name, count(r.id) as readings, sum(h.weight) as weight
from {{ ref('sites') }} s
left join {{ source('crm', 'regions') }} g on g.region = s.region
left join {{ ref('readings') }} r on r.id = s.site_id
left join {{ ref('hooked') }} h on h.site_id = s.site_id
group by s.site_id, s.region, g.region_name
