{{ batch_config('person_id') }}
with

mapped_visits as (
    select * from {{ batch_rows(ref('mapped_visits'), 'person_id') }}
),

final as (
    select
        cast(visit_occurrence_id as {{ omop_id_type() }}) as visit_occurrence_id,
        cast(person_id as {{ omop_id_type() }}) as person_id,
        cast(visit_concept_id as integer) as visit_concept_id,
        cast(visit_start_date as date) as visit_start_date,
        cast(visit_start_datetime as timestamp) as visit_start_datetime,
        cast(visit_end_date as date) as visit_end_date,
        cast(visit_end_datetime as timestamp) as visit_end_datetime,
        cast({{ fixed_concept('type_ehr') }} as integer) as visit_type_concept_id,
        cast(provider_id as {{ omop_id_type() }}) as provider_id,
        cast(care_site_id as {{ omop_id_type() }}) as care_site_id,
        cast(visit_source_value as varchar(50)) as visit_source_value,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as visit_source_concept_id,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as admitted_from_concept_id,
        cast(null as varchar(50)) as admitted_from_source_value,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as discharged_to_concept_id,
        cast(null as varchar(50)) as discharged_to_source_value,
        cast(preceding_visit_occurrence_id as {{ omop_id_type() }}) as preceding_visit_occurrence_id
    from mapped_visits
)

select * from final
