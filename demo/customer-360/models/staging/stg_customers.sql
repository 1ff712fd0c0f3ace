-- Bronze: one row per customer.
-- Cleans the raw CRM export: trims whitespace, lower-cases emails and segments,
-- upper-cases country codes and keeps only the most recently loaded version of
-- each customer (the raw file contains an exact duplicate and a later correction).

with source as (

    select * from {{ ref('raw_customers') }}

),

cleaned as (

    select
        cast(upper(trim(customer_id)) as varchar)  as customer_id,
        cast(trim(first_name) as varchar)          as first_name,
        cast(trim(last_name) as varchar)           as last_name,
        cast(lower(trim(email)) as varchar)        as email,
        cast(upper(trim(country_code)) as varchar) as country_code,
        cast(trim(city) as varchar)                as city,
        cast(lower(trim(segment)) as varchar)      as segment,
        cast(signup_date as date)                  as signup_date,
        cast(_loaded_at as timestamp)              as _loaded_at
    from source
    where customer_id is not null

),

deduplicated as (

    select *
    from cleaned
    qualify row_number() over (partition by customer_id order by _loaded_at desc) = 1

)

select
    customer_id,
    first_name,
    last_name,
    cast(first_name || ' ' || last_name as varchar) as full_name,
    email,
    country_code,
    city,
    segment,
    signup_date,
    _loaded_at
from deduplicated
