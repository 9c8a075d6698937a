{#-
    A few facts about this build, one row each, recorded on the day and at the
    time of the build. metadata_id is the fixed number of each fact below: append
    a new fact with the next number, never renumber.
-#}
with

load_manifest as (
    select * from {{ source('ehr2omop_load', 'load_manifest') }}
),

vocabulary as (
    select * from {{ source('vocab', 'vocabulary') }}
),

concept as (
    select * from {{ source('vocab', 'concept') }}
),

loads as (
    select
        count(distinct batch_id) as batch_count,
        left(string_agg(distinct batch_id, ', ' order by batch_id), 250) as batch_ids,
        sum(row_count) as row_count,
        max(loaded_at) as last_loaded_at
    from load_manifest
),

vocabulary_release as (
    -- the release of the whole vocabulary is the version of the vocabulary 'None'
    select max(vocabulary_version) as vocabulary_version
    from vocabulary
    where vocabulary_id = 'None'
),

cdm_version_concept as (
    -- OMOP CDM Version 5.4.0 when the loaded vocabulary has it
    select coalesce(max(concept_id), {{ fixed_concept('no_matching_concept') }}) as concept_id
    from concept
    where concept_id = {{ fixed_concept('cdm_version_5_4_0') }}
),

facts as (
    select
        1 as metadata_id,
        'ehr2omop version' as metadata_name,
        '{{ var("ehr2omop_version", "0.1.0") }}' as value_as_string,
        cast(null as integer) as value_as_concept_id,
        cast(null as numeric) as value_as_number
    union all
    select
        2 as metadata_id,
        'cdm version' as metadata_name,
        '5.4' as value_as_string,
        cdm_version_concept.concept_id as value_as_concept_id,
        cast(null as numeric) as value_as_number
    from cdm_version_concept
    union all
    select
        3 as metadata_id,
        'vocabulary version' as metadata_name,
        vocabulary_release.vocabulary_version as value_as_string,
        cast(null as integer) as value_as_concept_id,
        cast(null as numeric) as value_as_number
    from vocabulary_release
    union all
    select
        4 as metadata_id,
        'source batches' as metadata_name,
        -- the batch ids, as many as fit
        loads.batch_ids as value_as_string,
        cast(null as integer) as value_as_concept_id,
        loads.batch_count as value_as_number
    from loads
    union all
    select
        5 as metadata_id,
        'source rows loaded' as metadata_name,
        cast(null as {{ dbt.type_string() }}) as value_as_string,
        cast(null as integer) as value_as_concept_id,
        loads.row_count as value_as_number
    from loads
    union all
    select
        6 as metadata_id,
        'last source load' as metadata_name,
        to_char(loads.last_loaded_at, 'YYYY-MM-DD"T"HH24:MI:SSOF') as value_as_string,
        cast(null as integer) as value_as_concept_id,
        cast(null as numeric) as value_as_number
    from loads
    union all
    select
        7 as metadata_id,
        'observation period gap days' as metadata_name,
        cast(null as {{ dbt.type_string() }}) as value_as_string,
        cast(null as integer) as value_as_concept_id,
        {{ var('observation_period_gap_days', 548) }} as value_as_number
    union all
    select
        8 as metadata_id,
        'era persistence days' as metadata_name,
        cast(null as {{ dbt.type_string() }}) as value_as_string,
        cast(null as integer) as value_as_concept_id,
        {{ era_persistence_days() }} as value_as_number
    union all
    select
        9 as metadata_id,
        'de-identification mode' as metadata_name,
        '{{ deid_mode() }}' as value_as_string,
        cast(null as integer) as value_as_concept_id,
        cast(null as numeric) as value_as_number
    union all
    select
        10 as metadata_id,
        -- the range every person's shift is drawn from; never a person's own shift
        'date shift range days' as metadata_name,
        '{{ deid_date_shift_range() }}' as value_as_string,
        cast(null as integer) as value_as_concept_id,
        cast(null as numeric) as value_as_number
),

final as (
    select
        cast(metadata_id as {{ omop_id_type() }}) as metadata_id,
        cast({{ fixed_concept('no_matching_concept') }} as integer) as metadata_concept_id,
        cast({{ fixed_concept('type_standard_algorithm') }} as integer) as metadata_type_concept_id,
        cast(metadata_name as varchar(250)) as name,  -- noqa: RF04
        cast(value_as_string as varchar(250)) as value_as_string,
        cast(value_as_concept_id as integer) as value_as_concept_id,
        cast(value_as_number as numeric) as value_as_number,
        cast(current_date as date) as metadata_date,
        cast(current_timestamp as timestamp) as metadata_datetime
    from facts
)

select * from final
