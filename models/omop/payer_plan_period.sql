{#- One row per payer transition of mapped_payer_plan_periods. Synthea has one plan
    per payer: the plan is named by the payer's name. The member id and the plan
    owner's name are identifiers and stay in staging. -#}
{{ batch_config('person_id') }}
with

mapped_payer_plan_periods as (
    select * from {{ batch_rows(ref('mapped_payer_plan_periods'), 'person_id') }}
),

payer_plan_period_ids as (
    select * from {{ ref('payer_plan_period_ids') }}
),

final as (
    select
        cast(payer_plan_period_ids.id as {{ omop_id_type() }}) as payer_plan_period_id,
        cast(mapped_payer_plan_periods.person_id as {{ omop_id_type() }}) as person_id,
        cast(mapped_payer_plan_periods.period_start_date as date) as payer_plan_period_start_date,
        cast(mapped_payer_plan_periods.period_end_date as date) as payer_plan_period_end_date,
        cast(mapped_payer_plan_periods.payer_concept_id as integer) as payer_concept_id,
        cast(left(mapped_payer_plan_periods.payer_id, 50) as varchar(50)) as payer_source_value,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as payer_source_concept_id,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as plan_concept_id,
        cast(left(mapped_payer_plan_periods.payer_name, 50) as varchar(50)) as plan_source_value,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as plan_source_concept_id,
        cast(null as integer) as sponsor_concept_id,
        cast(null as varchar(50)) as sponsor_source_value,
        cast(null as integer) as sponsor_source_concept_id,
        cast(null as varchar(50)) as family_source_value,
        cast(null as integer) as stop_reason_concept_id,
        cast(null as varchar(50)) as stop_reason_source_value,
        cast(null as integer) as stop_reason_source_concept_id
    from mapped_payer_plan_periods
    inner join payer_plan_period_ids
        on mapped_payer_plan_periods.period_key = payer_plan_period_ids.source_key
)

select * from final
