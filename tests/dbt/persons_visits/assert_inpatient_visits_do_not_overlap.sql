-- Inpatient visits of one person never share a day: each starts after every earlier
-- one has ended. Returns one row per inpatient visit that overlaps an earlier one.
with

visit_occurrence as (
    select * from {{ ref('visit_occurrence') }}
),

inpatient_visits as (
    select
        visit_occurrence_id,
        person_id,
        visit_start_date,
        max(visit_end_date) over (
            partition by person_id
            order by visit_start_date, visit_end_date, visit_occurrence_id
            rows between unbounded preceding and 1 preceding
        ) as previous_end_date
    from visit_occurrence
    where visit_concept_id = {{ fixed_concept('visit_inpatient') }}
),

final as (
    select
        'inpatient visit overlapping an earlier one of the person' as problem,
        visit_occurrence_id,
        person_id,
        visit_start_date,
        previous_end_date
    from inpatient_visits
    where visit_start_date <= previous_end_date
)

select * from final
