with

mapped_locations as (
    select * from {{ ref('mapped_locations') }}
),

final as (
    -- street lines are not kept: one location stands for every address of a
    -- city, state, zip and county
    select
        cast(location_id as {{ omop_id_type() }}) as location_id,
        cast(null as varchar(50)) as address_1,
        cast(null as varchar(50)) as address_2,
        cast(city as varchar(50)) as city,
        cast(state as varchar(2)) as state,
        cast(zip as varchar(9)) as zip,
        cast(county as varchar(20)) as county,
        cast(location_source_value as varchar(50)) as location_source_value,
        cast(null as integer) as country_concept_id,
        cast(country_source_value as varchar(80)) as country_source_value,
        cast(null as numeric) as latitude,
        cast(null as numeric) as longitude
    from mapped_locations
)

select * from final
