{#- The pseudonyms of the patients a batch build recomputes (stg_synthea__batch_patients, whose
    records changed, and stg_synthea__batch_text_patients, whose published free texts did): the
    keys the person-keyed mapped and omop tables delete and rebuild. Empty in a full build. -#}
with

changed as (
    select {{ deid_pseudonym('patient_id', 'person') }} as person_key
    from {{ ref('stg_synthea__batch_patients') }}
),

texts_changed as (
    select {{ deid_pseudonym('patient_id', 'person') }} as person_key
    from {{ ref('stg_synthea__batch_text_patients') }}
),

final as (
    select person_key from changed
    union
    select person_key from texts_changed
)

select * from final
