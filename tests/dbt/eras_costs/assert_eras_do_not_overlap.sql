{#-
    Eras of one person and concept (for dose eras: and unit and dose) never overlap,
    and two of them are more than var('era_persistence_days') days apart (closer ones
    would be one era). Each era ends no earlier than it starts; a drug era's gap_days
    lies between 0 and its length. One row per era breaking a rule.
-#}
{%- set persistence_days = var('era_persistence_days', 30) -%}

with

condition_era as (
    select * from {{ ref('condition_era') }}
),

drug_era as (
    select * from {{ ref('drug_era') }}
),

dose_era as (
    select * from {{ ref('dose_era') }}
),

eras as (
    -- every era under one shape; group_key: the eras that must not overlap
    select
        'condition_era' as table_name,
        condition_era_id as era_id,
        cast(person_id as {{ dbt.type_string() }})
        || '|' || cast(condition_concept_id as {{ dbt.type_string() }}) as group_key,
        condition_era_start_date as start_date,
        condition_era_end_date as end_date,
        0 as gap_days
    from condition_era

    union all

    select
        'drug_era' as table_name,
        drug_era_id as era_id,
        cast(person_id as {{ dbt.type_string() }})
        || '|' || cast(drug_concept_id as {{ dbt.type_string() }}) as group_key,
        drug_era_start_date as start_date,
        drug_era_end_date as end_date,
        coalesce(gap_days, 0) as gap_days
    from drug_era

    union all

    select
        'dose_era' as table_name,
        dose_era_id as era_id,
        cast(person_id as {{ dbt.type_string() }})
        || '|' || cast(drug_concept_id as {{ dbt.type_string() }})
        || '|' || cast(unit_concept_id as {{ dbt.type_string() }})
        || '|' || cast(dose_value as {{ dbt.type_string() }}) as group_key,
        dose_era_start_date as start_date,
        dose_era_end_date as end_date,
        0 as gap_days
    from dose_era
),

ordered_eras as (
    select
        table_name,
        era_id,
        start_date,
        end_date,
        gap_days,
        max(end_date) over (
            partition by table_name, group_key
            order by start_date, end_date, era_id
            rows between unbounded preceding and 1 preceding
        ) as previous_end_date
    from eras
),

final as (
    select
        table_name,
        era_id,
        case
            when start_date > end_date then 'era ending before it starts'
            when gap_days < 0 or gap_days > end_date - start_date
                then 'gap_days outside 0 and the era length'
            when start_date <= previous_end_date
                then 'era overlapping an earlier one of the same concept'
            else 'era within {{ persistence_days }} days of an earlier one of the same concept'
        end as problem
    from ordered_eras
    where
        start_date > end_date
        or gap_days < 0
        or gap_days > end_date - start_date
        or start_date <= previous_end_date + {{ persistence_days }}
)

select * from final
