{#- One row per dose era of mapped_dose_eras: a constant dose of one ingredient
    (empty while the vocabulary's drug_strength is). -#}
{{ batch_config('person_id') }}
with

mapped_dose_eras as (
    select * from {{ batch_rows(ref('mapped_dose_eras'), 'person_id') }}
),

dose_era_ids as (
    select * from {{ ref('dose_era_ids') }}
),

final as (
    select
        cast(dose_era_ids.id as {{ omop_id_type() }}) as dose_era_id,
        cast(mapped_dose_eras.person_id as {{ omop_id_type() }}) as person_id,
        cast(mapped_dose_eras.drug_concept_id as integer) as drug_concept_id,
        cast(mapped_dose_eras.unit_concept_id as integer) as unit_concept_id,
        cast(mapped_dose_eras.dose_value as numeric) as dose_value,
        cast(mapped_dose_eras.dose_era_start_date as date) as dose_era_start_date,
        cast(mapped_dose_eras.dose_era_end_date as date) as dose_era_end_date
    from mapped_dose_eras
    inner join dose_era_ids
        on mapped_dose_eras.era_key = dose_era_ids.source_key
)

select * from final
