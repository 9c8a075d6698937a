{#-
    Insurance coverage periods: one row per staged payer transition (Synthea
    writes one per person, payer and coverage span), with the person, the payer
    and its name.

    A period is named by period_key: person_id | payer id | start timestamp of the
    transition. Two transitions with the same key (they would differ only in the
    member, owner or end) are one period, ending at the later end.

    A transition without an end lasts until the end of the person's last
    observation period (its start when that is earlier). payer_concept_id is a
    standard concept of the Payer domain whose name is the payer's name (e.g. the
    SOPT "Medicare"), 0 when none is; Synthea's own payer names ("Blue Cross Blue
    Shield", "NO_INSURANCE") resolve to none.
-#}
{{ config(
    indexes=[
        {'columns': ['person_id']},
    ],
) }}
{{ batch_config('person_id') }}

with

deid_synthea__payer_transitions as (
    select * from {{ batch_rows(ref('deid_synthea__payer_transitions'), 'patient_id') }}
),

deid_synthea__payers as (
    select * from {{ ref('deid_synthea__payers') }}
),

person_ids as (
    select * from {{ ref('person_ids') }}
),

mapped_observation_periods as (
    select * from {{ batch_rows(ref('mapped_observation_periods'), 'person_id') }}
),

concept as (
    select * from {{ source('vocab', 'concept') }}
),

transitions as (
    select
        person_ids.id as person_id,
        deid_synthea__payer_transitions.payer_id,
        deid_synthea__payer_transitions.start_datetime,
        max(deid_synthea__payer_transitions.end_datetime) as end_datetime
    from deid_synthea__payer_transitions
    inner join person_ids
        on deid_synthea__payer_transitions.patient_id = person_ids.source_key
    group by
        person_ids.id,
        deid_synthea__payer_transitions.payer_id,
        deid_synthea__payer_transitions.start_datetime
),

observed_until as (
    select
        person_id,
        max(period_end_date) as last_observed_date
    from mapped_observation_periods
    group by person_id
),

payer_concepts as (
    -- a standard Payer concept per name (the lowest id when several share it)
    select
        lower(concept_name) as concept_name,
        min(concept_id) as concept_id
    from concept
    where
        domain_id = 'Payer'
        and standard_concept = 'S'
        and invalid_reason is null
    group by lower(concept_name)
),

final as (
    select
        cast(transitions.person_id as {{ dbt.type_string() }})
        || '|' || transitions.payer_id
        || '|' || to_char(transitions.start_datetime, 'YYYY-MM-DD"T"HH24:MI:SS') as period_key,
        transitions.person_id,
        transitions.payer_id,
        deid_synthea__payers.payer_name,
        cast(transitions.start_datetime as date) as period_start_date,
        greatest(
            cast(transitions.start_datetime as date),
            coalesce(cast(transitions.end_datetime as date), observed_until.last_observed_date)
        ) as period_end_date,
        coalesce(payer_concepts.concept_id, {{ fixed_concept('no_matching_concept') }}) as payer_concept_id
    from transitions
    left outer join deid_synthea__payers
        on transitions.payer_id = deid_synthea__payers.payer_id
    left outer join observed_until
        on transitions.person_id = observed_until.person_id
    left outer join payer_concepts
        on lower(deid_synthea__payers.payer_name) = payer_concepts.concept_name
)

select * from final
