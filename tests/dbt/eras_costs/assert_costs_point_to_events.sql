{#-
    Every cost row points to an existing row of the table its cost_domain_id names
    (Visit: visit_occurrence, Drug: drug_exposure, Procedure: procedure_occurrence),
    and every visit occurrence has at least one cost row. One row per cost row or
    visit breaking a rule.
-#}
with

cost as (
    select * from {{ ref('cost') }}
),

visit_occurrence as (
    select * from {{ ref('visit_occurrence') }}
),

drug_exposure as (
    select * from {{ ref('drug_exposure') }}
),

procedure_occurrence as (
    select * from {{ ref('procedure_occurrence') }}
),

orphan_costs as (
    select
        'cost of a missing ' || cost.cost_domain_id || ' event' as problem,
        cost.cost_id,
        cast(null as {{ omop_id_type() }}) as visit_occurrence_id
    from cost
    left outer join visit_occurrence
        on cost.cost_domain_id = 'Visit'
            and cost.cost_event_id = visit_occurrence.visit_occurrence_id
    left outer join drug_exposure
        on cost.cost_domain_id = 'Drug'
            and cost.cost_event_id = drug_exposure.drug_exposure_id
    left outer join procedure_occurrence
        on cost.cost_domain_id = 'Procedure'
            and cost.cost_event_id = procedure_occurrence.procedure_occurrence_id
    where
        visit_occurrence.visit_occurrence_id is null
        and drug_exposure.drug_exposure_id is null
        and procedure_occurrence.procedure_occurrence_id is null
),

visits_without_cost as (
    select
        'visit without a cost row' as problem,
        cast(null as {{ omop_id_type() }}) as cost_id,
        visit_occurrence.visit_occurrence_id
    from visit_occurrence
    left outer join cost
        on cost.cost_domain_id = 'Visit'
            and visit_occurrence.visit_occurrence_id = cost.cost_event_id
    where cost.cost_id is null
),

final as (
    select * from orphan_costs
    union all
    select * from visits_without_cost
)

select * from final
