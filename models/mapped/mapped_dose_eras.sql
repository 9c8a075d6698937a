{#-
    Dose eras: spans of time on a constant dose of one ingredient, from
    mapped_drug_ingredient_exposures and the vocabulary's drug_strength.

    Only exposures whose drug has a valid drug_strength row for the ingredient
    with an amount and its unit (solid forms: "10 MG" per tablet) take part;
    concentrations (numerator / denominator) are left out. The dose is that
    amount per unit of the drug, in its unit: no daily dose is derived, because
    drug_exposure.quantity of this ETL counts dispenses, not units taken.

    Per person, ingredient, unit and dose, exposures less than
    var('era_persistence_days') days (30 by default) apart merge into one era
    (the set-based step of the drug and condition eras). Eras of different doses
    of one ingredient may overlap.

    An era is named by era_key: person_id | ingredient | unit | dose | first day.
    With an empty drug_strength (the shared and demo vocabularies) this model
    is empty; the unit tests in _mapped__eras_costs.yml prove its logic.
-#}
{{ batch_config('person_id') }}
{%- set persistence_days = era_persistence_days() -%}

with

mapped_drug_ingredient_exposures as (
    select * from {{ batch_rows(ref('mapped_drug_ingredient_exposures'), 'person_id') }}
),

drug_strength as (
    select * from {{ source('vocab', 'drug_strength') }}
),

dosed_exposures as (
    select
        mapped_drug_ingredient_exposures.person_id,
        mapped_drug_ingredient_exposures.ingredient_concept_id,
        drug_strength.amount_unit_concept_id as unit_concept_id,
        drug_strength.amount_value as dose_value,
        mapped_drug_ingredient_exposures.start_date,
        mapped_drug_ingredient_exposures.end_date
    from mapped_drug_ingredient_exposures
    inner join drug_strength
        on mapped_drug_ingredient_exposures.drug_concept_id = drug_strength.drug_concept_id
            and mapped_drug_ingredient_exposures.ingredient_concept_id = drug_strength.ingredient_concept_id
    where
        drug_strength.amount_value is not null
        and drug_strength.amount_unit_concept_id is not null
        and drug_strength.amount_unit_concept_id != {{ fixed_concept('no_matching_concept') }}
        and drug_strength.invalid_reason is null
),

ordered_exposures as (
    select
        person_id,
        ingredient_concept_id,
        unit_concept_id,
        dose_value,
        start_date,
        end_date,
        max(end_date) over (
            partition by person_id, ingredient_concept_id, unit_concept_id, dose_value
            order by start_date, end_date
            rows between unbounded preceding and 1 preceding
        ) as previous_end_date
    from dosed_exposures
),

numbered_exposures as (
    select
        person_id,
        ingredient_concept_id,
        unit_concept_id,
        dose_value,
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
            partition by person_id, ingredient_concept_id, unit_concept_id, dose_value
            order by start_date, end_date
            rows between unbounded preceding and current row
        ) as era_number
    from ordered_exposures
),

eras as (
    select
        person_id,
        ingredient_concept_id,
        unit_concept_id,
        dose_value,
        min(start_date) as dose_era_start_date,
        max(end_date) as dose_era_end_date
    from numbered_exposures
    group by person_id, ingredient_concept_id, unit_concept_id, dose_value, era_number
),

final as (
    select
        cast(person_id as {{ dbt.type_string() }})
        || '|' || cast(ingredient_concept_id as {{ dbt.type_string() }})
        || '|' || cast(unit_concept_id as {{ dbt.type_string() }})
        || '|' || cast(dose_value as {{ dbt.type_string() }})
        || '|' || to_char(dose_era_start_date, 'YYYY-MM-DD') as era_key,
        person_id,
        ingredient_concept_id as drug_concept_id,
        unit_concept_id,
        dose_value,
        dose_era_start_date,
        dose_era_end_date
    from eras
)

select * from final
