{#- One row per encounter: the visit detail it becomes, inside its visit occurrence. -#}
{{ batch_config('person_id') }}
with

mapped_visit_assignments as (
    select * from {{ batch_rows(ref('mapped_visit_assignments'), 'person_id') }}
),

mapped_encounter_visits as (
    select * from {{ batch_rows(ref('mapped_encounter_visits'), 'person_id') }}
),

final as (
    select
        mapped_encounter_visits.visit_detail_id,
        mapped_encounter_visits.encounter_id,
        mapped_encounter_visits.person_id,
        mapped_visit_assignments.visit_detail_concept_id,
        cast(mapped_visit_assignments.start_datetime as date) as visit_detail_start_date,
        mapped_visit_assignments.start_datetime as visit_detail_start_datetime,
        cast(mapped_visit_assignments.end_datetime as date) as visit_detail_end_date,
        mapped_visit_assignments.end_datetime as visit_detail_end_datetime,
        mapped_encounter_visits.provider_id,
        mapped_encounter_visits.care_site_id,
        coalesce(
            mapped_visit_assignments.encounter_code, mapped_visit_assignments.encounter_class
        ) as visit_detail_source_value,
        lag(mapped_encounter_visits.visit_detail_id) over (
            partition by mapped_encounter_visits.person_id
            order by
                mapped_visit_assignments.start_datetime,
                mapped_visit_assignments.end_datetime,
                mapped_encounter_visits.visit_detail_id
        ) as preceding_visit_detail_id,
        mapped_encounter_visits.visit_occurrence_id
    from mapped_visit_assignments
    inner join mapped_encounter_visits
        on mapped_visit_assignments.encounter_id = mapped_encounter_visits.encounter_id
)

select * from final
