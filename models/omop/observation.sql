{#- One row per clinical event whose standard concept is an Observation or
    any domain without a table of its own (Meas Value, Spec Anatomic Site,
    ...), per allergy, and per unmapped text observation. -#}
{{ batch_config('person_id') }}
with

mapped_domain_events as (
    select * from {{ batch_rows(ref('mapped_domain_events'), 'person_id') }}
),

observation_ids as (
    select * from {{ ref('observation_ids') }}
),

observation_events as (
    select * from mapped_domain_events
    where target_table = 'observation'
),

final as (
    select
        cast(observation_ids.id as {{ omop_id_type() }}) as observation_id,
        cast(observation_events.person_id as {{ omop_id_type() }}) as person_id,
        cast(observation_events.concept_id as integer) as observation_concept_id,
        cast(observation_events.start_date as date) as observation_date,
        cast(observation_events.start_datetime as timestamp) as observation_datetime,
        cast(observation_events.type_concept_id as integer) as observation_type_concept_id,
        cast(observation_events.value_as_number as numeric) as value_as_number,
        cast(left(observation_events.value_as_string, 60) as varchar(60)) as value_as_string,
        cast(observation_events.value_as_concept_id as integer) as value_as_concept_id,
        -- the source gives a qualifier (an allergy's severity) but no code for it
        cast(
            case
                when observation_events.qualifier_source_value is not null
                    then {{ fixed_concept('no_matching_concept') }}
            end
            as integer
        ) as qualifier_concept_id,
        cast(observation_events.unit_concept_id as integer) as unit_concept_id,
        cast(observation_events.provider_id as {{ omop_id_type() }}) as provider_id,
        cast(observation_events.visit_occurrence_id as {{ omop_id_type() }}) as visit_occurrence_id,
        cast(observation_events.visit_detail_id as {{ omop_id_type() }}) as visit_detail_id,
        cast(left(observation_events.source_value, 50) as varchar(50)) as observation_source_value,
        cast(observation_events.source_concept_id as integer) as observation_source_concept_id,
        cast(left(observation_events.unit_source_value, 50) as varchar(50)) as unit_source_value,
        cast(left(observation_events.qualifier_source_value, 50) as varchar(50)) as qualifier_source_value,
        cast(left(observation_events.value_source_value, 50) as varchar(50)) as value_source_value,
        cast(null as {{ omop_id_type() }}) as observation_event_id,
        cast(null as integer) as obs_event_field_concept_id
    from observation_events
    inner join observation_ids
        on observation_events.observation_key = observation_ids.source_key
)

select * from final
