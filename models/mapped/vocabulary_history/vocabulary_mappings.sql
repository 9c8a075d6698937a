{#-
    The source -> standard mapping as the vocabulary regression sees it: each
    row of source_to_standard, with the state of its target concept in the
    loaded vocabulary, how many event rows use the code, and the vocabulary
    version it was resolved under. The snapshot vocabulary_mappings_snapshot
    keeps its history, one version of the vocabulary after the other.
    One row per (source_vocabulary_id, source_code, target_concept_id).
-#}

with

source_to_standard as (
    select * from {{ ref('source_to_standard') }}
),

mapped_clinical_events as (
    select * from {{ ref('mapped_clinical_events') }}
),

concept as (
    select * from {{ source('vocab', 'concept') }}
),

vocabulary_load as (
    select * from {{ source('vocab_loader', 'vocabulary_load') }}
),

latest_load as (
    select vocabulary_version
    from vocabulary_load
    order by loaded_at desc
    limit 1
),

code_uses as (
    -- the codes the events use, as source_to_standard reads them: the event
    -- code, the unit (a UCUM code) and the coded categorical value
    select
        used.source_code,
        used.source_vocabulary_id,
        count(*) as source_row_count
    from mapped_clinical_events
    cross join
        lateral (
            values
            (mapped_clinical_events.source_code, mapped_clinical_events.source_vocabulary_id),
            (mapped_clinical_events.unit_source_value, 'UCUM'),
            (mapped_clinical_events.value_source_code, mapped_clinical_events.value_source_vocabulary_id)
        ) as used (source_code, source_vocabulary_id)
    where used.source_code is not null
        and used.source_vocabulary_id is not null
    group by used.source_code, used.source_vocabulary_id
),

final as (
    select
        source_to_standard.source_vocabulary_id
        || '|' || source_to_standard.source_code
        || '|' || cast(source_to_standard.target_concept_id as {{ dbt.type_string() }}) as mapping_key,
        source_to_standard.source_vocabulary_id,
        source_to_standard.source_code,
        source_to_standard.source_concept_id,
        source_to_standard.target_concept_id,
        source_to_standard.target_domain_id,
        source_to_standard.value_as_concept_id,
        source_to_standard.mapping_kind,
        target_concept.standard_concept as target_standard_concept,
        target_concept.invalid_reason as target_invalid_reason,
        coalesce(
            source_to_standard.target_concept_id != {{ fixed_concept('no_matching_concept') }}
            and target_concept.standard_concept = 'S'
            and target_concept.invalid_reason is null,
            false
        ) as is_mapped,
        coalesce(code_uses.source_row_count, 0) as source_row_count,
        latest_load.vocabulary_version
    from source_to_standard
    cross join latest_load
    left outer join concept as target_concept
        on source_to_standard.target_concept_id = target_concept.concept_id
    left outer join code_uses
        on source_to_standard.source_code = code_uses.source_code
            and source_to_standard.source_vocabulary_id = code_uses.source_vocabulary_id
)

select * from final
