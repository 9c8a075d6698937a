-- Visits should lie within an observation period of their person. They can only fall
-- outside when an encounter is dated before birth or after death (periods are cut
-- there), a data problem to look at rather than a broken rule: warn.
{{ config(severity='warn') }}

with

visit_occurrence as (
    select * from {{ ref('visit_occurrence') }}
),

observation_period as (
    select * from {{ ref('observation_period') }}
),

final as (
    select
        'visit outside every observation period of its person' as problem,
        visit_occurrence.visit_occurrence_id,
        visit_occurrence.person_id,
        visit_occurrence.visit_start_date,
        visit_occurrence.visit_end_date
    from visit_occurrence
    left outer join observation_period
        on
            visit_occurrence.person_id = observation_period.person_id
            and visit_occurrence.visit_start_date >= observation_period.observation_period_start_date
            and visit_occurrence.visit_end_date <= observation_period.observation_period_end_date
    where observation_period.observation_period_id is null
)

select * from final
