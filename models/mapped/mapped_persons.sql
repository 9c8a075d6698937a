{#-
    One row per valid staged patient: the OMOP person it becomes. person_source_value
    is set here and only here: the person's keyed pseudonym (deid boundary), never the
    Synthea id. birth_date is shifted, and aggregated for persons aged 90 or more.
-#}
{{ config(
    indexes=[
        {'columns': ['patient_id'], 'unique': true},
        {'columns': ['person_id'], 'unique': true},
    ],
) }}
{{ batch_config('person_id') }}

with

deid_synthea__patients as (
    select * from {{ batch_rows(ref('deid_synthea__patients'), 'patient_id') }}
),

person_ids as (
    select * from {{ ref('person_ids') }}
),

mapped_addresses as (
    select * from {{ ref('mapped_addresses') }}
    where owner_kind = 'patient'
),

location_ids as (
    select * from {{ ref('location_ids') }}
),

mapped_visit_assignments as (
    select * from {{ batch_rows(ref('mapped_visit_assignments'), 'person_id') }}
),

provider_counts as (
    -- the person's providers by number of encounters, then by the latest one
    select
        person_id,
        provider_id,
        row_number() over (
            partition by person_id
            order by count(*) desc, max(start_datetime) desc, provider_id
        ) as provider_rank
    from mapped_visit_assignments
    where provider_id is not null
    group by person_id, provider_id
),

care_site_counts as (
    select
        person_id,
        care_site_id,
        row_number() over (
            partition by person_id
            order by count(*) desc, max(start_datetime) desc, care_site_id
        ) as care_site_rank
    from mapped_visit_assignments
    where care_site_id is not null
    group by person_id, care_site_id
),

final as (
    select
        person_ids.id as person_id,
        deid_synthea__patients.patient_id,
        deid_synthea__patients.patient_id as person_source_value,
        deid_synthea__patients.birth_date,
        deid_synthea__patients.birth_date_is_aggregated,
        deid_synthea__patients.death_date,
        case upper(deid_synthea__patients.gender)
            when 'M' then {{ fixed_concept('gender_male') }}
            when 'F' then {{ fixed_concept('gender_female') }}
            else {{ fixed_concept('no_matching_concept') }}
        end as gender_concept_id,
        deid_synthea__patients.gender as gender_source_value,
        case lower(deid_synthea__patients.race)
            when 'white' then {{ fixed_concept('race_white') }}
            when 'black' then {{ fixed_concept('race_black') }}
            when 'asian' then {{ fixed_concept('race_asian') }}
            when 'native' then {{ fixed_concept('race_american_indian_alaska_native') }}
            when 'hawaiian' then {{ fixed_concept('race_native_hawaiian_pacific_islander') }}
            else {{ fixed_concept('no_matching_concept') }}
        end as race_concept_id,
        deid_synthea__patients.race as race_source_value,
        case lower(deid_synthea__patients.ethnicity)
            when 'hispanic' then {{ fixed_concept('ethnicity_hispanic') }}
            when 'nonhispanic' then {{ fixed_concept('ethnicity_not_hispanic') }}
            else {{ fixed_concept('no_matching_concept') }}
        end as ethnicity_concept_id,
        deid_synthea__patients.ethnicity as ethnicity_source_value,
        location_ids.id as location_id,
        provider_counts.provider_id,
        care_site_counts.care_site_id
    from deid_synthea__patients
    inner join person_ids
        on deid_synthea__patients.patient_id = person_ids.source_key
    left outer join mapped_addresses
        on deid_synthea__patients.patient_id = mapped_addresses.owner_id
    left outer join location_ids
        on mapped_addresses.location_key = location_ids.source_key
    left outer join provider_counts
        on
            person_ids.id = provider_counts.person_id
            and provider_counts.provider_rank = 1
    left outer join care_site_counts
        on
            person_ids.id = care_site_counts.person_id
            and care_site_counts.care_site_rank = 1
)

select * from final
