{{ batch_config('person_id') }}
with

mapped_observation_periods as (
    select * from {{ batch_rows(ref('mapped_observation_periods'), 'person_id') }}
),

observation_period_ids as (
    select * from {{ ref('observation_period_ids') }}
),

final as (
    select
        cast(observation_period_ids.id as {{ omop_id_type() }}) as observation_period_id,
        cast(mapped_observation_periods.person_id as {{ omop_id_type() }}) as person_id,
        cast(mapped_observation_periods.period_start_date as date) as observation_period_start_date,
        cast(mapped_observation_periods.period_end_date as date) as observation_period_end_date,
        cast({{ fixed_concept('type_ehr') }} as integer) as period_type_concept_id
    from mapped_observation_periods
    inner join observation_period_ids
        on mapped_observation_periods.period_key = observation_period_ids.source_key
)

select * from final
