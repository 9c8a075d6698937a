with

mapped_providers as (
    select * from {{ ref('mapped_providers') }}
),

final as (
    select
        cast(provider_id as {{ omop_id_type() }}) as provider_id,
        cast(provider_name as varchar(255)) as provider_name,
        cast(null as varchar(20)) as npi,
        cast(null as varchar(20)) as dea,
        cast(specialty_concept_id as integer) as specialty_concept_id,
        cast(care_site_id as {{ omop_id_type() }}) as care_site_id,
        cast(null as integer) as year_of_birth,
        cast(gender_concept_id as integer) as gender_concept_id,
        cast(provider_source_value as varchar(50)) as provider_source_value,
        cast(specialty_source_value as varchar(50)) as specialty_source_value,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as specialty_source_concept_id,
        cast(gender_source_value as varchar(50)) as gender_source_value,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as gender_source_concept_id
    from mapped_providers
)

select * from final
