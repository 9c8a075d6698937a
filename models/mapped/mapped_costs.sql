{#-
    Costs from Synthea's own cost columns, one row per costed OMOP event:

    - Visit: every visit occurrence, summing its encounters: total_charge = the
      encounters' total_claim_cost (the whole claim, all line items included),
      paid_by_payer = payer_coverage, paid_by_patient = the rest (Synthea bills
      the patient what the payer does not cover), total_paid = both.
    - Drug: a medication (total_cost = base_cost x dispenses, payer_coverage, the
      rest paid by the patient) or an immunization (base_cost, charge only),
      written as a drug_exposure.
    - Procedure: a procedure (base_cost, charge only) written as a
      procedure_occurrence.
    Line-item rows repeat part of their visit's charge: never add visit and
    line-item rows up.

    A line item finds its OMOP row through the event_key of mapped_clinical_events
    (entity name and hash of all the staged columns, recomputed here with the same
    macros); when an event was written to several rows (a code mapped to several
    concepts) the cost goes to one of them, the lowest id, so it is counted once.
    Events routed to other tables (e.g. a procedure whose concept is a
    measurement) get no cost row.

    claims and claims_transactions are not read: their charges and payments do
    not add up to the encounters' (on ma-27 the claim charges of only 221 of 604
    encounters equal total_claim_cost), and a payment's payer (primary,
    secondary or patient) cannot be told reliably from the transaction rows.

    payer_plan_period_id: the period of the person with the event's payer (the
    medication's own, else its encounter's) covering the event's date.
    A cost row is named by cost_key: domain | OMOP event id.
-#}
{{ batch_config('person_id') }}
with

deid_synthea__encounters as (
    select * from {{ batch_rows(ref('deid_synthea__encounters'), 'patient_id') }}
),

deid_synthea__medications as (
    select * from {{ batch_rows(ref('deid_synthea__medications'), 'patient_id') }}
),

deid_synthea__immunizations as (
    select * from {{ batch_rows(ref('deid_synthea__immunizations'), 'patient_id') }}
),

deid_synthea__procedures as (
    select * from {{ batch_rows(ref('deid_synthea__procedures'), 'patient_id') }}
),

mapped_encounter_visits as (
    select * from {{ batch_rows(ref('mapped_encounter_visits'), 'person_id') }}
),

mapped_domain_events as (
    select * from {{ batch_rows(ref('mapped_domain_events'), 'person_id') }}
),

drug_exposure_ids as (
    select * from {{ ref('drug_exposure_ids') }}
),

procedure_occurrence_ids as (
    select * from {{ ref('procedure_occurrence_ids') }}
),

mapped_payer_plan_periods as (
    select * from {{ batch_rows(ref('mapped_payer_plan_periods'), 'person_id') }}
),

payer_plan_period_ids as (
    select * from {{ ref('payer_plan_period_ids') }}
),

encounter_costs as (
    -- read once: the visit rows and the line items' fallback payer
    select
        deid_synthea__encounters.encounter_id,
        mapped_encounter_visits.visit_occurrence_id,
        mapped_encounter_visits.person_id,
        deid_synthea__encounters.payer_id,
        cast(deid_synthea__encounters.start_datetime as date) as event_date,
        deid_synthea__encounters.total_claim_cost,
        deid_synthea__encounters.payer_coverage
    from deid_synthea__encounters
    inner join mapped_encounter_visits
        on deid_synthea__encounters.encounter_id = mapped_encounter_visits.encounter_id
),

line_item_costs as (
    -- the cost columns of each costed staging record, under its event_key
    select
        'medications:'
        || {{ ehr2omop_row_hash(staging_column_names(synthea_entity('medications'))) }} as event_key,
        encounter_id,
        payer_id,
        cast(start_datetime as date) as event_date,
        total_cost as total_charge,
        payer_coverage as paid_by_payer,
        -- unknown when either amount is; never below zero
        case
            when total_cost >= payer_coverage then total_cost - payer_coverage
            when total_cost < payer_coverage then 0
        end as paid_by_patient
    from deid_synthea__medications

    union all

    select
        'immunizations:'
        || {{ ehr2omop_row_hash(staging_column_names(synthea_entity('immunizations'))) }} as event_key,
        encounter_id,
        cast(null as {{ dbt.type_string() }}) as payer_id,
        cast(immunization_datetime as date) as event_date,
        base_cost as total_charge,
        cast(null as numeric) as paid_by_payer,
        cast(null as numeric) as paid_by_patient
    from deid_synthea__immunizations

    union all

    select
        'procedures:'
        || {{ ehr2omop_row_hash(staging_column_names(synthea_entity('procedures'))) }} as event_key,
        encounter_id,
        cast(null as {{ dbt.type_string() }}) as payer_id,
        cast(start_datetime as date) as event_date,
        base_cost as total_charge,
        cast(null as numeric) as paid_by_payer,
        cast(null as numeric) as paid_by_patient
    from deid_synthea__procedures
),

costed_domain_events as (
    -- the OMOP row each costed event was written to
    select
        mapped_domain_events.event_key,
        mapped_domain_events.person_id,
        case mapped_domain_events.target_table
            when 'drug_exposure' then 'Drug'
            when 'procedure_occurrence' then 'Procedure'
        end as cost_domain_id,
        coalesce(drug_exposure_ids.id, procedure_occurrence_ids.id) as cost_event_id
    from mapped_domain_events
    left outer join drug_exposure_ids
        on mapped_domain_events.drug_exposure_key = drug_exposure_ids.source_key
    left outer join procedure_occurrence_ids
        on mapped_domain_events.procedure_occurrence_key = procedure_occurrence_ids.source_key
    where
        mapped_domain_events.target_table in ('drug_exposure', 'procedure_occurrence')
        and mapped_domain_events.source_entity in ('medications', 'immunizations', 'procedures')
),

ranked_domain_events as (
    -- an event written to several rows: the drug exposure before the procedure, then the lowest id
    select
        event_key,
        person_id,
        cost_domain_id,
        cost_event_id,
        row_number() over (
            partition by event_key
            order by cost_domain_id, cost_event_id
        ) as event_rank
    from costed_domain_events
),

first_domain_events as (
    select
        event_key,
        person_id,
        cost_domain_id,
        cost_event_id
    from ranked_domain_events
    where event_rank = 1
),

line_item_rows as (
    select
        first_domain_events.cost_domain_id,
        first_domain_events.cost_event_id,
        first_domain_events.person_id,
        coalesce(line_item_costs.payer_id, encounter_costs.payer_id) as payer_id,
        line_item_costs.event_date,
        line_item_costs.total_charge,
        line_item_costs.paid_by_payer,
        line_item_costs.paid_by_patient
    from line_item_costs
    inner join first_domain_events
        on line_item_costs.event_key = first_domain_events.event_key
    left outer join encounter_costs
        on line_item_costs.encounter_id = encounter_costs.encounter_id
),

visit_rows as (
    select
        'Visit' as cost_domain_id,
        visit_occurrence_id as cost_event_id,
        person_id,
        payer_id,
        event_date,
        total_claim_cost as total_charge,
        payer_coverage as paid_by_payer,
        case
            when total_claim_cost >= payer_coverage then total_claim_cost - payer_coverage
            when total_claim_cost < payer_coverage then 0
        end as paid_by_patient
    from encounter_costs
),

cost_rows as (
    select * from visit_rows
    union all
    select * from line_item_rows
),

plan_periods as (
    select
        mapped_payer_plan_periods.person_id,
        mapped_payer_plan_periods.payer_id,
        mapped_payer_plan_periods.period_start_date,
        mapped_payer_plan_periods.period_end_date,
        payer_plan_period_ids.id as payer_plan_period_id
    from mapped_payer_plan_periods
    inner join payer_plan_period_ids
        on mapped_payer_plan_periods.period_key = payer_plan_period_ids.source_key
),

event_plan_periods as (
    -- the payer plan period of each OMOP event (the lowest id when several apply)
    select
        cost_rows.cost_domain_id,
        cost_rows.cost_event_id,
        min(plan_periods.payer_plan_period_id) as payer_plan_period_id
    from cost_rows
    inner join plan_periods
        on cost_rows.person_id = plan_periods.person_id
            and cost_rows.payer_id = plan_periods.payer_id
            and cost_rows.event_date between plan_periods.period_start_date and plan_periods.period_end_date
    group by cost_rows.cost_domain_id, cost_rows.cost_event_id
),

costs as (
    -- one row per OMOP event (a visit sums its encounters; an event has one person)
    select
        cost_domain_id,
        cost_event_id,
        person_id,
        sum(total_charge) as total_charge,
        sum(paid_by_payer) as paid_by_payer,
        sum(paid_by_patient) as paid_by_patient
    from cost_rows
    group by cost_domain_id, cost_event_id, person_id
),

final as (
    select
        costs.cost_domain_id
        || '|' || cast(costs.cost_event_id as {{ dbt.type_string() }}) as cost_key,
        costs.cost_event_id,
        costs.person_id,
        costs.cost_domain_id,
        costs.total_charge,
        costs.paid_by_payer + costs.paid_by_patient as total_paid,
        costs.paid_by_payer,
        costs.paid_by_patient,
        event_plan_periods.payer_plan_period_id
    from costs
    left outer join event_plan_periods
        on costs.cost_domain_id = event_plan_periods.cost_domain_id
            and costs.cost_event_id = event_plan_periods.cost_event_id
)

select * from final
