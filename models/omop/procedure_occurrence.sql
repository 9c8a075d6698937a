{#- One row per clinical event whose standard concept is a Procedure (or that
    maps to nothing and came from procedures or imaging studies). -#}
{{ batch_config('person_id') }}
with

mapped_domain_events as (
    select * from {{ batch_rows(ref('mapped_domain_events'), 'person_id') }}
),

procedure_occurrence_ids as (
    select * from {{ ref('procedure_occurrence_ids') }}
),

procedure_events as (
    select * from mapped_domain_events
    where target_table = 'procedure_occurrence'
),

final as (
    select
        cast(procedure_occurrence_ids.id as {{ omop_id_type() }}) as procedure_occurrence_id,
        cast(procedure_events.person_id as {{ omop_id_type() }}) as person_id,
        cast(procedure_events.concept_id as integer) as procedure_concept_id,
        cast(procedure_events.start_date as date) as procedure_date,
        cast(procedure_events.start_datetime as timestamp) as procedure_datetime,
        cast(procedure_events.end_date as date) as procedure_end_date,
        cast(procedure_events.end_datetime as timestamp) as procedure_end_datetime,
        cast(procedure_events.type_concept_id as integer) as procedure_type_concept_id,
        cast(null as integer) as modifier_concept_id,
        cast(procedure_events.quantity as integer) as quantity,
        cast(procedure_events.provider_id as {{ omop_id_type() }}) as provider_id,
        cast(procedure_events.visit_occurrence_id as {{ omop_id_type() }}) as visit_occurrence_id,
        cast(procedure_events.visit_detail_id as {{ omop_id_type() }}) as visit_detail_id,
        cast(left(procedure_events.source_value, 50) as varchar(50)) as procedure_source_value,
        cast(procedure_events.source_concept_id as integer) as procedure_source_concept_id,
        cast(null as varchar(50)) as modifier_source_value
    from procedure_events
    inner join procedure_occurrence_ids
        on procedure_events.procedure_occurrence_key = procedure_occurrence_ids.source_key
)

select * from final
