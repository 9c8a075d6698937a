{#- One row per clinical event whose standard concept is a Device (or that
    maps to nothing and came from devices or supplies). -#}
{{ batch_config('person_id') }}
with

mapped_domain_events as (
    select * from {{ batch_rows(ref('mapped_domain_events'), 'person_id') }}
),

device_exposure_ids as (
    select * from {{ ref('device_exposure_ids') }}
),

device_events as (
    select * from mapped_domain_events
    where target_table = 'device_exposure'
),

final as (
    select
        cast(device_exposure_ids.id as {{ omop_id_type() }}) as device_exposure_id,
        cast(device_events.person_id as {{ omop_id_type() }}) as person_id,
        cast(device_events.concept_id as integer) as device_concept_id,
        cast(device_events.start_date as date) as device_exposure_start_date,
        cast(device_events.start_datetime as timestamp) as device_exposure_start_datetime,
        cast(device_events.end_date as date) as device_exposure_end_date,
        cast(device_events.end_datetime as timestamp) as device_exposure_end_datetime,
        cast(device_events.type_concept_id as integer) as device_type_concept_id,
        cast(left(device_events.unique_device_id, 255) as varchar(255)) as unique_device_id,
        cast(null as varchar(255)) as production_id,
        -- a whole number of items; a fractional supply quantity is not one
        cast(
            case when device_events.quantity = trunc(device_events.quantity) then device_events.quantity end
            as integer
        ) as quantity,
        cast(device_events.provider_id as {{ omop_id_type() }}) as provider_id,
        cast(device_events.visit_occurrence_id as {{ omop_id_type() }}) as visit_occurrence_id,
        cast(device_events.visit_detail_id as {{ omop_id_type() }}) as visit_detail_id,
        cast(left(device_events.source_value, 50) as varchar(50)) as device_source_value,
        cast(device_events.source_concept_id as integer) as device_source_concept_id,
        cast(device_events.unit_concept_id as integer) as unit_concept_id,
        cast(left(device_events.unit_source_value, 50) as varchar(50)) as unit_source_value,
        cast(device_events.unit_source_concept_id as integer) as unit_source_concept_id
    from device_events
    inner join device_exposure_ids
        on device_events.device_exposure_key = device_exposure_ids.source_key
)

select * from final
