with

mapped_care_sites as (
    select * from {{ ref('mapped_care_sites') }}
),

final as (
    select
        cast(care_site_id as {{ omop_id_type() }}) as care_site_id,
        cast(care_site_name as varchar(255)) as care_site_name,
        cast(place_of_service_concept_id as integer) as place_of_service_concept_id,
        cast(location_id as {{ omop_id_type() }}) as location_id,
        cast(organization_id as varchar(50)) as care_site_source_value,
        cast(null as varchar(50)) as place_of_service_source_value
    from mapped_care_sites
)

select * from final
