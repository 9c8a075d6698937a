{#-
    The contract between the visit logic and every clinical event table: one row
    per valid staged encounter with its OMOP person, visit occurrence, visit detail,
    provider and care site, and the dates of its visit occurrence. Columns and their
    meaning are fixed (see _mapped__persons_visits.yml); add, do not change.
-#}
{{ config(
    indexes=[
        {'columns': ['encounter_id'], 'unique': true},
    ],
) }}
{{ batch_config('person_id') }}

with

mapped_visit_assignments as (
    select * from {{ batch_rows(ref('mapped_visit_assignments'), 'person_id') }}
),

visit_occurrence_ids as (
    select * from {{ ref('visit_occurrence_ids') }}
),

visit_detail_ids as (
    select * from {{ ref('visit_detail_ids') }}
),

final as (
    select
        cast(mapped_visit_assignments.encounter_id as {{ dbt.type_string() }}) as encounter_id,
        cast(mapped_visit_assignments.patient_id as {{ dbt.type_string() }}) as patient_id,
        cast(mapped_visit_assignments.person_id as {{ omop_id_type() }}) as person_id,
        cast(visit_occurrence_ids.id as {{ omop_id_type() }}) as visit_occurrence_id,
        cast(visit_detail_ids.id as {{ omop_id_type() }}) as visit_detail_id,
        cast(mapped_visit_assignments.provider_id as {{ omop_id_type() }}) as provider_id,
        cast(mapped_visit_assignments.care_site_id as {{ omop_id_type() }}) as care_site_id,
        cast(mapped_visit_assignments.visit_start_datetime as date) as visit_start_date,
        cast(mapped_visit_assignments.visit_end_datetime as date) as visit_end_date
    from mapped_visit_assignments
    inner join visit_occurrence_ids
        on mapped_visit_assignments.visit_key = visit_occurrence_ids.source_key
    inner join visit_detail_ids
        on mapped_visit_assignments.encounter_id = visit_detail_ids.source_key
)

select * from final
