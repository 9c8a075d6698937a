{#-
    Every condition occurrence with a concept other than 0 lies (start to end, its
    start when it has no end) inside exactly one condition era of its person and
    concept, and each era counts exactly the occurrences inside it. One row per
    occurrence or era breaking a rule.
-#}
with

condition_occurrence as (
    select * from {{ ref('condition_occurrence') }}
),

condition_era as (
    select * from {{ ref('condition_era') }}
),

occurrences as (
    select
        condition_occurrence_id,
        person_id,
        condition_concept_id,
        condition_start_date as start_date,
        greatest(condition_start_date, coalesce(condition_end_date, condition_start_date)) as end_date
    from condition_occurrence
    where condition_concept_id != {{ fixed_concept('no_matching_concept') }}
),

matches as (
    select
        occurrences.condition_occurrence_id,
        condition_era.condition_era_id
    from occurrences
    left outer join condition_era
        on occurrences.person_id = condition_era.person_id
            and occurrences.condition_concept_id = condition_era.condition_concept_id
            and occurrences.start_date >= condition_era.condition_era_start_date
            and occurrences.end_date <= condition_era.condition_era_end_date
),

occurrence_problems as (
    select
        'condition occurrence in ' || count(condition_era_id) || ' eras of its concept' as problem,
        condition_occurrence_id,
        cast(null as {{ omop_id_type() }}) as condition_era_id
    from matches
    group by condition_occurrence_id
    having count(condition_era_id) != 1
),

era_counts as (
    select
        condition_era.condition_era_id,
        condition_era.condition_occurrence_count,
        count(matches.condition_occurrence_id) as occurrences_inside
    from condition_era
    left outer join matches
        on condition_era.condition_era_id = matches.condition_era_id
    group by condition_era.condition_era_id, condition_era.condition_occurrence_count
),

era_problems as (
    select
        'era counts ' || condition_occurrence_count || ' occurrences, holds '
        || occurrences_inside as problem,
        cast(null as {{ omop_id_type() }}) as condition_occurrence_id,
        condition_era_id
    from era_counts
    where condition_occurrence_count != occurrences_inside
),

final as (
    select * from occurrence_problems
    union all
    select * from era_problems
)

select * from final
