{#-
    The de-identification keys of every valid patient: the person's keyed pseudonym,
    date shift and published birth date. The crosswalk from the Synthea id to the
    pseudonym: it stays in the staging schema, which only the runner role reads, and
    the boundary models (models/mapped/deid/) join it instead of recomputing a keyed
    hash per row.
-#}
{{ config(
    materialized='table',
    tags=['deid'],
    indexes=[{'columns': ['patient_id'], 'unique': true}, {'columns': ['person_key'], 'unique': true}],
) }}
{{ batch_config('patient_id', 'staging') }}

with

stg_synthea__patients as (
    select * from {{ batch_rows(ref('stg_synthea__patients'), 'patient_id', 'staging') }}
),

keyed as (
    select
        patient_id,
        birth_date,
        death_date,
        {{ deid_pseudonym('patient_id', 'person') }} as person_key,
        {{ deid_date_shift_days('patient_id') }} as shift_days
    from stg_synthea__patients
),

final as (
    select
        patient_id,
        person_key,
        shift_days,
        {{ deid_birth_date('birth_date', 'death_date', 'shift_days') }} as birth_date,
        {{ deid_is_age_aggregated('birth_date', 'death_date') }} as is_age_aggregated
    from keyed
)

select * from final
