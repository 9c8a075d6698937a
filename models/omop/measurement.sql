{#- One row per clinical event whose standard concept is a Measurement (or
    that maps to nothing and is a numeric observation). -#}
{{ batch_config('person_id') }}
with

mapped_domain_events as (
    select * from {{ batch_rows(ref('mapped_domain_events'), 'person_id') }}
),

measurement_ids as (
    select * from {{ ref('measurement_ids') }}
),

measurement_events as (
    select * from mapped_domain_events
    where target_table = 'measurement'
),

final as (
    select
        cast(measurement_ids.id as {{ omop_id_type() }}) as measurement_id,
        cast(measurement_events.person_id as {{ omop_id_type() }}) as person_id,
        cast(measurement_events.concept_id as integer) as measurement_concept_id,
        cast(measurement_events.start_date as date) as measurement_date,
        cast(measurement_events.start_datetime as timestamp) as measurement_datetime,
        cast(null as varchar(10)) as measurement_time,
        cast(measurement_events.type_concept_id as integer) as measurement_type_concept_id,
        cast(null as integer) as operator_concept_id,
        cast(measurement_events.value_as_number as numeric) as value_as_number,
        cast(measurement_events.value_as_concept_id as integer) as value_as_concept_id,
        cast(measurement_events.unit_concept_id as integer) as unit_concept_id,
        cast(null as numeric) as range_low,
        cast(null as numeric) as range_high,
        cast(measurement_events.provider_id as {{ omop_id_type() }}) as provider_id,
        cast(measurement_events.visit_occurrence_id as {{ omop_id_type() }}) as visit_occurrence_id,
        cast(measurement_events.visit_detail_id as {{ omop_id_type() }}) as visit_detail_id,
        cast(left(measurement_events.source_value, 50) as varchar(50)) as measurement_source_value,
        cast(measurement_events.source_concept_id as integer) as measurement_source_concept_id,
        cast(left(measurement_events.unit_source_value, 50) as varchar(50)) as unit_source_value,
        cast(measurement_events.unit_source_concept_id as integer) as unit_source_concept_id,
        cast(left(measurement_events.value_source_value, 50) as varchar(50)) as value_source_value,
        cast(null as {{ omop_id_type() }}) as measurement_event_id,
        cast(null as integer) as meas_event_field_concept_id
    from measurement_events
    inner join measurement_ids
        on measurement_events.measurement_key = measurement_ids.source_key
)

select * from final
