{#- One row per visit occurrence, built from the encounters mapped_visit_assignments groups. -#}
{{ config(
    indexes=[
        {'columns': ['visit_occurrence_id'], 'unique': true},
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

visits as (
    -- the visit columns are the same on every encounter of a visit
    select distinct
        visit_key,
        person_id,
        visit_class,
        visit_concept_id,
        visit_start_datetime,
        visit_end_datetime,
        visit_provider_id,
        visit_care_site_id,
        visit_source_value
    from mapped_visit_assignments
),

final as (
    select
        visit_occurrence_ids.id as visit_occurrence_id,
        visits.visit_key,
        visits.person_id,
        visits.visit_class,
        visits.visit_concept_id,
        cast(visits.visit_start_datetime as date) as visit_start_date,
        visits.visit_start_datetime,
        cast(visits.visit_end_datetime as date) as visit_end_date,
        visits.visit_end_datetime,
        visits.visit_provider_id as provider_id,
        visits.visit_care_site_id as care_site_id,
        visits.visit_source_value,
        lag(visit_occurrence_ids.id) over (
            partition by visits.person_id
            order by visits.visit_start_datetime, visits.visit_end_datetime, visit_occurrence_ids.id
        ) as preceding_visit_occurrence_id
    from visits
    inner join visit_occurrence_ids
        on visits.visit_key = visit_occurrence_ids.source_key
)

select * from final
