{{ batch_config('person_id') }}
with

mapped_visit_details as (
    select * from {{ batch_rows(ref('mapped_visit_details'), 'person_id') }}
),

final as (
    select
        cast(visit_detail_id as {{ omop_id_type() }}) as visit_detail_id,
        cast(person_id as {{ omop_id_type() }}) as person_id,
        cast(visit_detail_concept_id as integer) as visit_detail_concept_id,
        cast(visit_detail_start_date as date) as visit_detail_start_date,
        cast(visit_detail_start_datetime as timestamp) as visit_detail_start_datetime,
        cast(visit_detail_end_date as date) as visit_detail_end_date,
        cast(visit_detail_end_datetime as timestamp) as visit_detail_end_datetime,
        cast({{ fixed_concept('type_ehr') }} as integer) as visit_detail_type_concept_id,
        cast(provider_id as {{ omop_id_type() }}) as provider_id,
        cast(care_site_id as {{ omop_id_type() }}) as care_site_id,
        cast(visit_detail_source_value as varchar(50)) as visit_detail_source_value,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as visit_detail_source_concept_id,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as admitted_from_concept_id,
        cast(null as varchar(50)) as admitted_from_source_value,
        cast(null as varchar(50)) as discharged_to_source_value,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as discharged_to_concept_id,
        cast(preceding_visit_detail_id as {{ omop_id_type() }}) as preceding_visit_detail_id,
        cast(null as {{ omop_id_type() }}) as parent_visit_detail_id,
        cast(visit_occurrence_id as {{ omop_id_type() }}) as visit_occurrence_id
    from mapped_visit_details
)

select * from final
