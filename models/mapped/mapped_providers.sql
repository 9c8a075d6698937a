{#-
    One row per Synthea provider: the OMOP provider it becomes. The specialty is
    matched by name to a standard concept of the Provider domain (Synthea writes
    names such as 'GENERAL PRACTICE'); no match leaves concept 0.
-#}
with

deid_synthea__providers as (
    select * from {{ ref('deid_synthea__providers') }}
),

provider_ids as (
    select * from {{ ref('provider_ids') }}
),

care_site_ids as (
    select * from {{ ref('care_site_ids') }}
),

mapped_addresses as (
    select * from {{ ref('mapped_addresses') }}
    where owner_kind = 'provider'
),

location_ids as (
    select * from {{ ref('location_ids') }}
),

concept as (
    select * from {{ source('vocab', 'concept') }}
),

specialty_concepts as (
    -- one standard concept per specialty name: Medicare Specialty first, then
    -- the smallest concept id
    select
        lower(concept_name) as specialty_name,
        concept_id,
        row_number() over (
            partition by lower(concept_name)
            order by (vocabulary_id = 'Medicare Specialty') desc, concept_id
        ) as preference
    from concept
    where
        domain_id = 'Provider'
        and standard_concept = 'S'
        and invalid_reason is null
),

final as (
    select
        provider_ids.id as provider_id,
        deid_synthea__providers.provider_id as provider_source_value,
        deid_synthea__providers.provider_name,
        coalesce(
            specialty_concepts.concept_id, {{ fixed_concept('no_matching_concept') }}
        ) as specialty_concept_id,
        deid_synthea__providers.specialty as specialty_source_value,
        care_site_ids.id as care_site_id,
        case upper(deid_synthea__providers.gender)
            when 'M' then {{ fixed_concept('gender_male') }}
            when 'F' then {{ fixed_concept('gender_female') }}
            else {{ fixed_concept('no_matching_concept') }}
        end as gender_concept_id,
        deid_synthea__providers.gender as gender_source_value,
        location_ids.id as location_id
    from deid_synthea__providers
    inner join provider_ids
        on deid_synthea__providers.provider_id = provider_ids.source_key
    left outer join care_site_ids
        on deid_synthea__providers.organization_id = care_site_ids.source_key
    left outer join specialty_concepts
        on
            lower(trim(deid_synthea__providers.specialty)) = specialty_concepts.specialty_name
            and specialty_concepts.preference = 1
    left outer join mapped_addresses
        on deid_synthea__providers.provider_id = mapped_addresses.owner_id
    left outer join location_ids
        on mapped_addresses.location_key = location_ids.source_key
)

select * from final
