{#- One row per distinct location (city, state, zip, county) of mapped_addresses, with its id. -#}
with

mapped_addresses as (
    select * from {{ ref('mapped_addresses') }}
),

location_ids as (
    select * from {{ ref('location_ids') }}
),

locations as (
    -- owners sharing a key share city, state, zip and county; of the state as
    -- delivered ('Massachusetts' or 'MA') the smallest spelling is kept
    select
        location_key,
        min(city) as city,
        min(state) as state,
        min(zip) as zip,
        min(county) as county,
        min(state_text) as state_text,
        bool_or(is_us_state) as is_us_state
    from mapped_addresses
    group by location_key
),

final as (
    select
        location_ids.id as location_id,
        locations.location_key,
        locations.city,
        locations.state,
        locations.zip,
        locations.county,
        left(
            concat_ws(', ', locations.city, locations.county, locations.state_text, locations.zip),
            50
        ) as location_source_value,
        case when locations.is_us_state then 'United States' end as country_source_value
    from locations
    inner join location_ids
        on locations.location_key = location_ids.source_key
)

select * from final
