{#-
    Every drug exposure of a drug with an ingredient (a standard RxNorm / RxNorm
    Extension Ingredient ancestor in concept_ancestor) lies inside exactly one drug
    era of each of its ingredients, and each era counts exactly the exposures inside
    it. The ingredients and exposure ends are derived here again from drug_exposure
    and the vocabulary, not read from the era models' inputs. One row per exposure
    and ingredient, or era, breaking a rule.
-#}
with

drug_exposure as (
    select * from {{ ref('drug_exposure') }}
),

drug_era as (
    select * from {{ ref('drug_era') }}
),

concept_ancestor as (
    select * from {{ source('vocab', 'concept_ancestor') }}
),

concept as (
    select * from {{ source('vocab', 'concept') }}
),

ingredient_exposures as (
    select
        drug_exposure.drug_exposure_id,
        drug_exposure.person_id,
        concept.concept_id as ingredient_concept_id,
        drug_exposure.drug_exposure_start_date as start_date,
        greatest(
            drug_exposure.drug_exposure_start_date,
            coalesce(
                drug_exposure.drug_exposure_end_date,
                case
                    when drug_exposure.days_supply > 0
                        then drug_exposure.drug_exposure_start_date + drug_exposure.days_supply
                end,
                drug_exposure.drug_exposure_start_date + 1
            )
        ) as end_date
    from drug_exposure
    inner join concept_ancestor
        on drug_exposure.drug_concept_id = concept_ancestor.descendant_concept_id
    inner join concept
        on concept_ancestor.ancestor_concept_id = concept.concept_id
    where
        concept.concept_class_id = 'Ingredient'
        and concept.vocabulary_id in ('RxNorm', 'RxNorm Extension')
        and concept.standard_concept = 'S'
        and drug_exposure.drug_concept_id != {{ fixed_concept('no_matching_concept') }}
),

matches as (
    select
        ingredient_exposures.drug_exposure_id,
        ingredient_exposures.ingredient_concept_id,
        drug_era.drug_era_id
    from ingredient_exposures
    left outer join drug_era
        on ingredient_exposures.person_id = drug_era.person_id
            and ingredient_exposures.ingredient_concept_id = drug_era.drug_concept_id
            and ingredient_exposures.start_date >= drug_era.drug_era_start_date
            and ingredient_exposures.end_date <= drug_era.drug_era_end_date
),

exposure_problems as (
    select
        'drug exposure in ' || count(drug_era_id) || ' eras of its ingredient '
        || ingredient_concept_id as problem,
        drug_exposure_id,
        cast(null as {{ omop_id_type() }}) as drug_era_id
    from matches
    group by drug_exposure_id, ingredient_concept_id
    having count(drug_era_id) != 1
),

era_counts as (
    select
        drug_era.drug_era_id,
        drug_era.drug_exposure_count,
        count(matches.drug_exposure_id) as exposures_inside
    from drug_era
    left outer join matches
        on drug_era.drug_era_id = matches.drug_era_id
    group by drug_era.drug_era_id, drug_era.drug_exposure_count
),

era_problems as (
    select
        'era counts ' || drug_exposure_count || ' exposures, holds ' || exposures_inside as problem,
        cast(null as {{ omop_id_type() }}) as drug_exposure_id,
        drug_era_id
    from era_counts
    where drug_exposure_count != exposures_inside
),

final as (
    select * from exposure_problems
    union all
    select * from era_problems
)

select * from final
