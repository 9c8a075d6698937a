{#- One row per clinical event whose standard concept is a Drug (or that maps
    to nothing and came from medications or immunizations). -#}
{{ batch_config('person_id') }}
with

mapped_domain_events as (
    select * from {{ batch_rows(ref('mapped_domain_events'), 'person_id') }}
),

drug_exposure_ids as (
    select * from {{ ref('drug_exposure_ids') }}
),

drug_events as (
    select * from mapped_domain_events
    where target_table = 'drug_exposure'
),

final as (
    select
        cast(drug_exposure_ids.id as {{ omop_id_type() }}) as drug_exposure_id,
        cast(drug_events.person_id as {{ omop_id_type() }}) as person_id,
        cast(drug_events.concept_id as integer) as drug_concept_id,
        cast(drug_events.start_date as date) as drug_exposure_start_date,
        cast(drug_events.start_datetime as timestamp) as drug_exposure_start_datetime,
        -- required: the start when the source gives no end (an ongoing prescription)
        cast(coalesce(drug_events.end_date, drug_events.start_date) as date) as drug_exposure_end_date,
        cast(coalesce(drug_events.end_datetime, drug_events.start_datetime) as timestamp)
            as drug_exposure_end_datetime,
        cast(drug_events.end_date as date) as verbatim_end_date,
        cast(drug_events.type_concept_id as integer) as drug_type_concept_id,
        cast(null as varchar(20)) as stop_reason,
        cast(null as integer) as refills,
        cast(drug_events.quantity as numeric) as quantity,
        cast(drug_events.days_supply as integer) as days_supply,
        cast(null as text) as sig,
        cast(null as integer) as route_concept_id,
        cast(null as varchar(50)) as lot_number,
        cast(drug_events.provider_id as {{ omop_id_type() }}) as provider_id,
        cast(drug_events.visit_occurrence_id as {{ omop_id_type() }}) as visit_occurrence_id,
        cast(drug_events.visit_detail_id as {{ omop_id_type() }}) as visit_detail_id,
        cast(left(drug_events.source_value, 50) as varchar(50)) as drug_source_value,
        cast(drug_events.source_concept_id as integer) as drug_source_concept_id,
        cast(null as varchar(50)) as route_source_value,
        cast(null as varchar(50)) as dose_unit_source_value
    from drug_events
    inner join drug_exposure_ids
        on drug_events.drug_exposure_key = drug_exposure_ids.source_key
)

select * from final
