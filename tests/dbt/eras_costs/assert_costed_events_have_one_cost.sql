{#-
    Every medication, immunization and procedure written to drug_exposure or
    procedure_occurrence has exactly one cost row across the OMOP rows it was
    written to. mapped_costs finds these rows by recomputing the event_key of
    mapped_clinical_events: this test fails when the two drift apart. One row per
    event breaking the rule.
-#}
with

mapped_domain_events as (
    select * from {{ ref('mapped_domain_events') }}
),

drug_exposure_ids as (
    select * from {{ ref('drug_exposure_ids') }}
),

procedure_occurrence_ids as (
    select * from {{ ref('procedure_occurrence_ids') }}
),

cost as (
    select * from {{ ref('cost') }}
),

costed_events as (
    select
        mapped_domain_events.event_key,
        case mapped_domain_events.target_table
            when 'drug_exposure' then 'Drug'
            else 'Procedure'
        end as cost_domain_id,
        coalesce(drug_exposure_ids.id, procedure_occurrence_ids.id) as event_id
    from mapped_domain_events
    left outer join drug_exposure_ids
        on mapped_domain_events.drug_exposure_key = drug_exposure_ids.source_key
    left outer join procedure_occurrence_ids
        on mapped_domain_events.procedure_occurrence_key = procedure_occurrence_ids.source_key
    where
        mapped_domain_events.source_entity in ('medications', 'immunizations', 'procedures')
        and mapped_domain_events.target_table in ('drug_exposure', 'procedure_occurrence')
),

final as (
    select
        costed_events.event_key,
        'event with ' || count(cost.cost_id) || ' cost rows' as problem
    from costed_events
    left outer join cost
        on costed_events.cost_domain_id = cost.cost_domain_id
            and costed_events.event_id = cost.cost_event_id
    group by costed_events.event_key
    having count(cost.cost_id) != 1
)

select * from final
