{#-
    Drug eras by the OHDSI standard algorithm, per person and ingredient, from
    mapped_drug_ingredient_exposures.

    Two passes of the same set-based step (a running max of the earlier end dates
    flags where a new group starts, a running sum numbers the groups):
      1. overlapping or touching exposures of an ingredient merge into
         sub-exposures, whose lengths are the days actually covered;
      2. sub-exposures less than var('era_persistence_days') days (30 by
         default) apart merge into eras.
    gap_days is the era's length minus the days its sub-exposures cover: the
    days inside the era without any exposure. drug_exposure_count counts the
    exposures of the era.

    An era is named by era_key: person_id | ingredient concept id | first day.
-#}
{{ batch_config('person_id') }}
{%- set persistence_days = era_persistence_days() -%}

with

mapped_drug_ingredient_exposures as (
    select * from {{ batch_rows(ref('mapped_drug_ingredient_exposures'), 'person_id') }}
),

ordered_exposures as (
    select
        person_id,
        ingredient_concept_id,
        start_date,
        end_date,
        max(end_date) over (
            partition by person_id, ingredient_concept_id
            order by start_date, end_date
            rows between unbounded preceding and 1 preceding
        ) as previous_end_date
    from mapped_drug_ingredient_exposures
),

numbered_exposures as (
    -- a new sub-exposure starts after a day without exposure
    select
        person_id,
        ingredient_concept_id,
        start_date,
        end_date,
        sum(
            case
                when previous_end_date is null or start_date > previous_end_date then 1
                else 0
            end
        ) over (
            partition by person_id, ingredient_concept_id
            order by start_date, end_date
            rows between unbounded preceding and current row
        ) as sub_exposure_number
    from ordered_exposures
),

sub_exposures as (
    select
        person_id,
        ingredient_concept_id,
        min(start_date) as start_date,
        max(end_date) as end_date,
        max(end_date) - min(start_date) as days_exposed,
        count(*) as drug_exposure_count
    from numbered_exposures
    group by person_id, ingredient_concept_id, sub_exposure_number
),

ordered_sub_exposures as (
    select
        person_id,
        ingredient_concept_id,
        start_date,
        end_date,
        days_exposed,
        drug_exposure_count,
        max(end_date) over (
            partition by person_id, ingredient_concept_id
            order by start_date, end_date
            rows between unbounded preceding and 1 preceding
        ) as previous_end_date
    from sub_exposures
),

numbered_sub_exposures as (
    -- a new era starts when the gap to the earlier sub-exposures exceeds the window
    select
        person_id,
        ingredient_concept_id,
        start_date,
        end_date,
        days_exposed,
        drug_exposure_count,
        sum(
            case
                when
                    previous_end_date is null
                    or start_date > previous_end_date + {{ persistence_days }}
                    then 1
                else 0
            end
        ) over (
            partition by person_id, ingredient_concept_id
            order by start_date, end_date
            rows between unbounded preceding and current row
        ) as era_number
    from ordered_sub_exposures
),

eras as (
    select
        person_id,
        ingredient_concept_id,
        min(start_date) as drug_era_start_date,
        max(end_date) as drug_era_end_date,
        sum(drug_exposure_count) as drug_exposure_count,
        max(end_date) - min(start_date) - sum(days_exposed) as gap_days
    from numbered_sub_exposures
    group by person_id, ingredient_concept_id, era_number
),

final as (
    select
        cast(person_id as {{ dbt.type_string() }})
        || '|' || cast(ingredient_concept_id as {{ dbt.type_string() }})
        || '|' || to_char(drug_era_start_date, 'YYYY-MM-DD') as era_key,
        person_id,
        ingredient_concept_id as drug_concept_id,
        drug_era_start_date,
        drug_era_end_date,
        drug_exposure_count,
        gap_days
    from eras
)

select * from final
