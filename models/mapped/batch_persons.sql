{#- The persons a batch build recomputes, by pseudonym and OMOP person id (NULL for a person
    who never had one): what the person-keyed tables of mapped and omop delete and rebuild
    (macros/batch/batch.sql). Empty in a full build. -#}
{{ config(
    indexes=[
        {'columns': ['patient_id']},
        {'columns': ['person_id']},
    ],
) }}

with

batch_patients as (
    select * from {{ ref('deid_batch_person_keys') }}
),

person_ids as (
    select * from {{ ref('person_ids') }}
),

final as (
    select
        batch_patients.person_key as patient_id,
        person_ids.id as person_id
    from batch_patients
    left outer join person_ids
        on batch_patients.person_key = person_ids.source_key
)

select * from final
