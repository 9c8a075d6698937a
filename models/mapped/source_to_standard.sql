{#-
    The one place a source code is resolved to OMOP concepts. Every code the
    clinical events use (their own code, the unit of their value, a coded
    categorical value) gets:
      source_concept_id  the concept with that code in that vocabulary,
                         preferring a valid then a standard one; 0 if none
      target_concept_id  each standard concept it maps to, one row each:
                           custom   a valid row of the site's own
                                    source_to_concept_map (the seeds
                                    demo_ and custom_source_to_concept_map;
                                    wins when present)
                           maps_to  a valid `Maps to` to a valid standard concept
                           self     the source concept itself, when it is
                                    standard and valid and has no `Maps to`
                           unmapped 0 when none of the above
      value_as_concept_id  the valid standard `Maps to value` target, if any
    One row per (source_code, source_vocabulary_id, target_concept_id).
-#}
{{ config(
    indexes=[
        {'columns': ['source_code', 'source_vocabulary_id']},
    ],
) }}

with

mapped_clinical_events as (
    select * from {{ ref('mapped_clinical_events') }}
),

demo_source_to_concept_map as (
    select * from {{ ref('demo_source_to_concept_map') }}
),

custom_source_to_concept_map as (
    select * from {{ ref('custom_source_to_concept_map') }}
),

concept as (
    select * from {{ source('vocab', 'concept') }}
),

concept_relationship as (
    select * from {{ source('vocab', 'concept_relationship') }}
),

source_codes as (
    -- every code the events use, read in one pass: the event code, the unit
    -- (UCUM codes) and the coded categorical value
    select distinct
        used.source_code,
        used.source_vocabulary_id
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
),

ranked_source_concepts as (
    -- a code can have several concepts in one vocabulary (an old and a new
    -- one): the valid one first, then the standard one, then the lowest id
    select
        source_codes.source_code,
        source_codes.source_vocabulary_id,
        concept.concept_id,
        concept.standard_concept,
        concept.invalid_reason,
        row_number() over (
            partition by source_codes.source_code, source_codes.source_vocabulary_id
            order by
                case when concept.invalid_reason is null then 0 else 1 end,
                case when concept.standard_concept = 'S' then 0 else 1 end,
                concept.concept_id
        ) as preference
    from source_codes
    inner join concept
        on source_codes.source_code = concept.concept_code
            and source_codes.source_vocabulary_id = concept.vocabulary_id
),

source_concepts as (
    select
        source_codes.source_code,
        source_codes.source_vocabulary_id,
        coalesce(ranked_source_concepts.concept_id, {{ fixed_concept('no_matching_concept') }})
            as source_concept_id,
        coalesce(
            ranked_source_concepts.standard_concept = 'S' and ranked_source_concepts.invalid_reason is null,
            false
        ) as is_valid_standard
    from source_codes
    left outer join ranked_source_concepts
        on source_codes.source_code = ranked_source_concepts.source_code
            and source_codes.source_vocabulary_id = ranked_source_concepts.source_vocabulary_id
            and ranked_source_concepts.preference = 1
),

standard_concepts as (
    select
        concept_id,
        domain_id
    from concept
    where standard_concept = 'S'
        and invalid_reason is null
),

valid_relationships as (
    select
        concept_relationship.concept_id_1,
        concept_relationship.concept_id_2,
        concept_relationship.relationship_id,
        standard_concepts.domain_id
    from concept_relationship
    inner join standard_concepts
        on concept_relationship.concept_id_2 = standard_concepts.concept_id
    where concept_relationship.relationship_id in ('Maps to', 'Maps to value')
        and concept_relationship.invalid_reason is null
),

site_maps as (
    -- the site's own maps: the demo's, and those imported from Usagi
    select
        source_code,
        source_vocabulary_id,
        target_concept_id,
        valid_start_date,
        valid_end_date,
        invalid_reason
    from demo_source_to_concept_map
    union all
    select
        source_code,
        source_vocabulary_id,
        target_concept_id,
        valid_start_date,
        valid_end_date,
        invalid_reason
    from custom_source_to_concept_map
),

custom_targets as (
    -- the rows valid today; the target's domain comes from the vocabulary
    -- (NULL when the target concept is not loaded)
    select distinct
        site_maps.source_code,
        site_maps.source_vocabulary_id,
        site_maps.target_concept_id,
        concept.domain_id as target_domain_id
    from site_maps
    left outer join concept
        on site_maps.target_concept_id = concept.concept_id
    where site_maps.invalid_reason is null
        and current_date between site_maps.valid_start_date and site_maps.valid_end_date
),

maps_to_values as (
    -- at most one value per source concept: the lowest id when a vocabulary
    -- gives several
    select
        concept_id_1,
        min(concept_id_2) as value_as_concept_id
    from valid_relationships
    where relationship_id = 'Maps to value'
    group by concept_id_1
),

candidates as (
    select
        source_concepts.source_code,
        source_concepts.source_vocabulary_id,
        source_concepts.source_concept_id,
        custom_targets.target_concept_id,
        custom_targets.target_domain_id,
        cast(null as integer) as value_as_concept_id,
        'custom' as mapping_kind,
        1 as priority
    from source_concepts
    inner join custom_targets
        on source_concepts.source_code = custom_targets.source_code
            and source_concepts.source_vocabulary_id = custom_targets.source_vocabulary_id

    union all

    select
        source_concepts.source_code,
        source_concepts.source_vocabulary_id,
        source_concepts.source_concept_id,
        valid_relationships.concept_id_2 as target_concept_id,
        valid_relationships.domain_id as target_domain_id,
        maps_to_values.value_as_concept_id,
        'maps_to' as mapping_kind,
        2 as priority
    from source_concepts
    inner join valid_relationships
        on source_concepts.source_concept_id = valid_relationships.concept_id_1
            and valid_relationships.relationship_id = 'Maps to'
    left outer join maps_to_values
        on source_concepts.source_concept_id = maps_to_values.concept_id_1

    union all

    select
        source_concepts.source_code,
        source_concepts.source_vocabulary_id,
        source_concepts.source_concept_id,
        source_concepts.source_concept_id as target_concept_id,
        standard_concepts.domain_id as target_domain_id,
        cast(null as integer) as value_as_concept_id,
        'self' as mapping_kind,
        3 as priority
    from source_concepts
    inner join standard_concepts
        on source_concepts.source_concept_id = standard_concepts.concept_id

    union all

    select
        source_code,
        source_vocabulary_id,
        source_concept_id,
        {{ fixed_concept('no_matching_concept') }} as target_concept_id,
        cast(null as {{ dbt.type_string() }}) as target_domain_id,
        cast(null as integer) as value_as_concept_id,
        'unmapped' as mapping_kind,
        4 as priority
    from source_concepts
),

best_kind as (
    -- the strongest kind of mapping each code has
    select
        source_code,
        source_vocabulary_id,
        min(priority) as priority
    from candidates
    group by source_code, source_vocabulary_id
),

final as (
    select
        candidates.source_code,
        candidates.source_vocabulary_id,
        candidates.source_concept_id,
        candidates.target_concept_id,
        candidates.target_domain_id,
        candidates.value_as_concept_id,
        candidates.mapping_kind
    from candidates
    inner join best_kind
        on candidates.source_code = best_kind.source_code
            and candidates.source_vocabulary_id = best_kind.source_vocabulary_id
            and candidates.priority = best_kind.priority
)

select * from final
