{#-
    Condition eras by the OHDSI standard algorithm, computed from the CDM table
    condition_occurrence (eras are derived from the CDM by definition, so this
    model, like the other era models, reads the omop layer).

    Per person and standard condition concept (concept 0 is left out), each
    occurrence covers its start to its end (its start when it has no end). An
    occurrence starting more than var('era_persistence_days') days (30 by default)
    after every earlier occurrence of the same concept ended starts a new era;
    otherwise it joins the current one. Set-based: a running max of the earlier
    end dates flags the first occurrence of each era, a running sum numbers the
    eras.

    An era is named by era_key: person_id | concept id | first day. When a new
    batch moves an era's first day or merges two eras, the era gets a new key and
    so a new id; the old id is simply no longer used.
-#}
{{ batch_config('person_id') }}
{%- set persistence_days = era_persistence_days() -%}

with

condition_occurrence as (
    select * from {{ batch_rows(ref('condition_occurrence'), 'person_id') }}
),

condition_ranges as (
    -- the days each occurrence covers; an end before the start counts as the start
    select
        person_id,
        condition_concept_id,
        condition_start_date as start_date,
        greatest(
            condition_start_date,
            coalesce(condition_end_date, condition_start_date)
        ) as end_date
    from condition_occurrence
    where condition_concept_id != {{ fixed_concept('no_matching_concept') }}
),

ordered_ranges as (
    select
        person_id,
        condition_concept_id,
        start_date,
        end_date,
        max(end_date) over (
            partition by person_id, condition_concept_id
            order by start_date, end_date
            rows between unbounded preceding and 1 preceding
        ) as previous_end_date
    from condition_ranges
),

numbered_ranges as (
    -- a new era starts when the gap to every earlier occurrence exceeds the window
    select
        person_id,
        condition_concept_id,
        start_date,
        end_date,
        sum(
            case
                when
                    previous_end_date is null
                    or start_date > previous_end_date + {{ persistence_days }}
                    then 1
                else 0
            end
        ) over (
            partition by person_id, condition_concept_id
            order by start_date, end_date
            rows between unbounded preceding and current row
        ) as era_number
    from ordered_ranges
),

eras as (
    select
        person_id,
        condition_concept_id,
        min(start_date) as condition_era_start_date,
        max(end_date) as condition_era_end_date,
        count(*) as condition_occurrence_count
    from numbered_ranges
    group by person_id, condition_concept_id, era_number
),

final as (
    select
        cast(person_id as {{ dbt.type_string() }})
        || '|' || cast(condition_concept_id as {{ dbt.type_string() }})
        || '|' || to_char(condition_era_start_date, 'YYYY-MM-DD') as era_key,
        person_id,
        condition_concept_id,
        condition_era_start_date,
        condition_era_end_date,
        condition_occurrence_count
    from eras
)

select * from final
