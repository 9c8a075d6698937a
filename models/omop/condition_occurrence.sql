{#- One row per clinical event whose standard concept is a Condition (or
    that maps to nothing and came from the conditions table). -#}
{{ batch_config('person_id') }}
with

mapped_domain_events as (
    select * from {{ batch_rows(ref('mapped_domain_events'), 'person_id') }}
),

condition_occurrence_ids as (
    select * from {{ ref('condition_occurrence_ids') }}
),

condition_events as (
    select * from mapped_domain_events
    where target_table = 'condition_occurrence'
),

final as (
    select
        cast(condition_occurrence_ids.id as {{ omop_id_type() }}) as condition_occurrence_id,
        cast(condition_events.person_id as {{ omop_id_type() }}) as person_id,
        cast(condition_events.concept_id as integer) as condition_concept_id,
        cast(condition_events.start_date as date) as condition_start_date,
        cast(condition_events.start_datetime as timestamp) as condition_start_datetime,
        cast(condition_events.end_date as date) as condition_end_date,
        cast(condition_events.end_datetime as timestamp) as condition_end_datetime,
        cast(condition_events.type_concept_id as integer) as condition_type_concept_id,
        cast(null as integer) as condition_status_concept_id,
        cast(null as varchar(20)) as stop_reason,
        cast(condition_events.provider_id as {{ omop_id_type() }}) as provider_id,
        cast(condition_events.visit_occurrence_id as {{ omop_id_type() }}) as visit_occurrence_id,
        cast(condition_events.visit_detail_id as {{ omop_id_type() }}) as visit_detail_id,
        cast(left(condition_events.source_value, 50) as varchar(50)) as condition_source_value,
        cast(condition_events.source_concept_id as integer) as condition_source_concept_id,
        cast(null as varchar(50)) as condition_status_source_value
    from condition_events
    inner join condition_occurrence_ids
        on condition_events.condition_occurrence_key = condition_occurrence_ids.source_key
)

select * from final
