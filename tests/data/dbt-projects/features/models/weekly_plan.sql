select d.day_offset, a.plan
from {{ ref('helper_days') }} d
cross join (select distinct plan from {{ ref('accounts') }}) a
