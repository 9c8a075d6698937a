{#- One row per costed visit, drug exposure and procedure of mapped_costs, in US
    dollars (currency 0 when the vocabulary lacks the concept). -#}
with

mapped_costs as (
    select * from {{ ref('mapped_costs') }}
),

cost_ids as (
    select * from {{ ref('cost_ids') }}
),

concept as (
    select * from {{ source('vocab', 'concept') }}
),

currency as (
    -- United States dollar when the loaded vocabulary has it
    select coalesce(max(concept_id), {{ fixed_concept('no_matching_concept') }}) as currency_concept_id
    from concept
    where concept_id = {{ fixed_concept('currency_usd') }}
),

final as (
    select
        cast(cost_ids.id as {{ omop_id_type() }}) as cost_id,
        cast(mapped_costs.cost_event_id as {{ omop_id_type() }}) as cost_event_id,
        cast(mapped_costs.cost_domain_id as varchar(20)) as cost_domain_id,
        cast({{ fixed_concept('type_cost_record') }} as integer) as cost_type_concept_id,
        cast(currency.currency_concept_id as integer) as currency_concept_id,
        cast(mapped_costs.total_charge as numeric) as total_charge,
        cast(null as numeric) as total_cost,
        cast(mapped_costs.total_paid as numeric) as total_paid,
        cast(mapped_costs.paid_by_payer as numeric) as paid_by_payer,
        cast(mapped_costs.paid_by_patient as numeric) as paid_by_patient,
        cast(null as numeric) as paid_patient_copay,
        cast(null as numeric) as paid_patient_coinsurance,
        cast(null as numeric) as paid_patient_deductible,
        cast(null as numeric) as paid_by_primary,
        cast(null as numeric) as paid_ingredient_cost,
        cast(null as numeric) as paid_dispensing_fee,
        cast(mapped_costs.payer_plan_period_id as {{ omop_id_type() }}) as payer_plan_period_id,
        cast(null as numeric) as amount_allowed,
        cast(null as integer) as revenue_code_concept_id,
        cast(null as varchar(50)) as revenue_code_source_value,
        cast(null as integer) as drg_concept_id,
        cast(null as varchar(3)) as drg_source_value
    from mapped_costs
    inner join cost_ids
        on mapped_costs.cost_key = cost_ids.source_key
    cross join currency
)

select * from final
