{#- One row per drug era of mapped_drug_eras: exposures to one ingredient (OHDSI
    standard algorithm, var era_persistence_days window). -#}
{{ batch_config('person_id') }}
with

mapped_drug_eras as (
    select * from {{ batch_rows(ref('mapped_drug_eras'), 'person_id') }}
),

drug_era_ids as (
    select * from {{ ref('drug_era_ids') }}
),

final as (
    select
        cast(drug_era_ids.id as {{ omop_id_type() }}) as drug_era_id,
        cast(mapped_drug_eras.person_id as {{ omop_id_type() }}) as person_id,
        cast(mapped_drug_eras.drug_concept_id as integer) as drug_concept_id,
        cast(mapped_drug_eras.drug_era_start_date as date) as drug_era_start_date,
        cast(mapped_drug_eras.drug_era_end_date as date) as drug_era_end_date,
        cast(mapped_drug_eras.drug_exposure_count as integer) as drug_exposure_count,
        cast(mapped_drug_eras.gap_days as integer) as gap_days
    from mapped_drug_eras
    inner join drug_era_ids
        on mapped_drug_eras.era_key = drug_era_ids.source_key
)

select * from final
