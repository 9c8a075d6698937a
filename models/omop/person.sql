{{ batch_config('person_id') }}
with

mapped_persons as (
    select * from {{ batch_rows(ref('mapped_persons'), 'person_id') }}
),

final as (
    select
        cast(person_id as {{ omop_id_type() }}) as person_id,
        cast(gender_concept_id as integer) as gender_concept_id,
        cast(extract(year from birth_date) as integer) as year_of_birth,
        -- the 90+ category (Safe Harbor) publishes the year only
        cast(case when not birth_date_is_aggregated then extract(month from birth_date) end as integer)
            as month_of_birth,
        cast(case when not birth_date_is_aggregated then extract(day from birth_date) end as integer)
            as day_of_birth,
        cast(case when not birth_date_is_aggregated then birth_date end as timestamp) as birth_datetime,
        cast(race_concept_id as integer) as race_concept_id,
        cast(ethnicity_concept_id as integer) as ethnicity_concept_id,
        cast(location_id as {{ omop_id_type() }}) as location_id,
        cast(provider_id as {{ omop_id_type() }}) as provider_id,
        cast(care_site_id as {{ omop_id_type() }}) as care_site_id,
        cast(person_source_value as varchar(50)) as person_source_value,
        cast(gender_source_value as varchar(50)) as gender_source_value,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as gender_source_concept_id,
        cast(race_source_value as varchar(50)) as race_source_value,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as race_source_concept_id,
        cast(ethnicity_source_value as varchar(50)) as ethnicity_source_value,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as ethnicity_source_concept_id
    from mapped_persons
)

select * from final
