{#- One row per condition era of mapped_condition_eras (OHDSI standard algorithm,
    var era_persistence_days window). -#}
{{ batch_config('person_id') }}
with

mapped_condition_eras as (
    select * from {{ batch_rows(ref('mapped_condition_eras'), 'person_id') }}
),

condition_era_ids as (
    select * from {{ ref('condition_era_ids') }}
),

final as (
    select
        cast(condition_era_ids.id as {{ omop_id_type() }}) as condition_era_id,
        cast(mapped_condition_eras.person_id as {{ omop_id_type() }}) as person_id,
        cast(mapped_condition_eras.condition_concept_id as integer) as condition_concept_id,
        cast(mapped_condition_eras.condition_era_start_date as date) as condition_era_start_date,
        cast(mapped_condition_eras.condition_era_end_date as date) as condition_era_end_date,
        cast(mapped_condition_eras.condition_occurrence_count as integer) as condition_occurrence_count
    from mapped_condition_eras
    inner join condition_era_ids
        on mapped_condition_eras.era_key = condition_era_ids.source_key
)

select * from final
