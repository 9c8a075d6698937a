{#-
    Drug exposures rolled up to their ingredients, the input of drug_era and
    dose_era (OHDSI standard drug era algorithm), computed from the CDM table
    drug_exposure.

    One row per drug exposure and ingredient it contains: the ingredient is an
    ancestor of the exposure's drug concept in concept_ancestor (an ingredient is
    its own ancestor) that is a standard RxNorm or RxNorm Extension concept of
    class Ingredient. A drug mapped to no ingredient (concept 0, a vaccine coded
    in CVX only, ...) is left out.

    The exposure ends on drug_exposure_end_date; failing that on start +
    days_supply; failing that the day after its start (OHDSI order). An end
    before the start counts as the start.
-#}
{{ batch_config('person_id') }}
with

drug_exposure as (
    select * from {{ batch_rows(ref('drug_exposure'), 'person_id') }}
),

concept_ancestor as (
    select * from {{ source('vocab', 'concept_ancestor') }}
),

concept as (
    select * from {{ source('vocab', 'concept') }}
),

ingredients as (
    select concept_id as ingredient_concept_id
    from concept
    where
        concept_class_id = 'Ingredient'
        and vocabulary_id in ('RxNorm', 'RxNorm Extension')
        and standard_concept = 'S'
),

exposure_ends as (
    select
        drug_exposure_id,
        person_id,
        drug_concept_id,
        drug_exposure_start_date as start_date,
        coalesce(
            drug_exposure_end_date,
            case when days_supply > 0 then drug_exposure_start_date + days_supply end,
            drug_exposure_start_date + 1
        ) as end_date
    from drug_exposure
    where drug_concept_id != {{ fixed_concept('no_matching_concept') }}
),

final as (
    select
        exposure_ends.drug_exposure_id,
        exposure_ends.person_id,
        exposure_ends.drug_concept_id,
        ingredients.ingredient_concept_id,
        exposure_ends.start_date,
        greatest(exposure_ends.start_date, exposure_ends.end_date) as end_date
    from exposure_ends
    inner join concept_ancestor
        on exposure_ends.drug_concept_id = concept_ancestor.descendant_concept_id
    inner join ingredients
        on concept_ancestor.ancestor_concept_id = ingredients.ingredient_concept_id
)

select * from final
