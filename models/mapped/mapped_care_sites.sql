{#- One row per Synthea organization: the OMOP care site it becomes. -#}
with

deid_synthea__organizations as (
    select * from {{ ref('deid_synthea__organizations') }}
),

care_site_ids as (
    select * from {{ ref('care_site_ids') }}
),

mapped_addresses as (
    select * from {{ ref('mapped_addresses') }}
    where owner_kind = 'organization'
),

location_ids as (
    select * from {{ ref('location_ids') }}
),

final as (
    select
        care_site_ids.id as care_site_id,
        deid_synthea__organizations.organization_id,
        deid_synthea__organizations.organization_name as care_site_name,
        -- Synthea does not say what kind of place an organization is
        {{ fixed_concept('no_matching_concept') }} as place_of_service_concept_id,
        location_ids.id as location_id
    from deid_synthea__organizations
    inner join care_site_ids
        on deid_synthea__organizations.organization_id = care_site_ids.source_key
    left outer join mapped_addresses
        on deid_synthea__organizations.organization_id = mapped_addresses.owner_id
    left outer join location_ids
        on mapped_addresses.location_key = location_ids.source_key
)

select * from final
