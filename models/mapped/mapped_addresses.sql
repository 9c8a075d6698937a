{#-
    One row per patient, organization and provider that has an address: the address
    reduced to the parts an OMOP location keeps (city, two-letter state, zip, county)
    and the key of that location. Street lines are not carried: one location stands
    for every address that shares city, state, zip and county.
-#}
{{ config(
    indexes=[
        {'columns': ['owner_kind', 'owner_id']},
    ],
) }}
{#- a batch build replaces the batch's patients' addresses and all the others' (small) -#}
{%- if batch_mode() %}
{%- do ref('batch_persons') %}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    on_schema_change='fail',
    pre_hook=["{% if is_incremental() %}delete from {{ this }} where owner_kind <> 'patient' or owner_id in {{ batch_keys('patient_id') }}{% endif %}"],
) }}
{%- endif %}

with

deid_synthea__patients as (
    select * from {{ batch_rows(ref('deid_synthea__patients'), 'patient_id') }}
),

deid_synthea__organizations as (
    select * from {{ ref('deid_synthea__organizations') }}
),

deid_synthea__providers as (
    select * from {{ ref('deid_synthea__providers') }}
),

us_states as (
    -- USPS codes of the states, DC and the inhabited territories, by name
    select
        state_name,
        state_code
    from (
        values
        ('alabama', 'AL'), ('alaska', 'AK'), ('arizona', 'AZ'), ('arkansas', 'AR'),
        ('california', 'CA'), ('colorado', 'CO'), ('connecticut', 'CT'), ('delaware', 'DE'),
        ('district of columbia', 'DC'), ('florida', 'FL'), ('georgia', 'GA'), ('hawaii', 'HI'),
        ('idaho', 'ID'), ('illinois', 'IL'), ('indiana', 'IN'), ('iowa', 'IA'),
        ('kansas', 'KS'), ('kentucky', 'KY'), ('louisiana', 'LA'), ('maine', 'ME'),
        ('maryland', 'MD'), ('massachusetts', 'MA'), ('michigan', 'MI'), ('minnesota', 'MN'),
        ('mississippi', 'MS'), ('missouri', 'MO'), ('montana', 'MT'), ('nebraska', 'NE'),
        ('nevada', 'NV'), ('new hampshire', 'NH'), ('new jersey', 'NJ'), ('new mexico', 'NM'),
        ('new york', 'NY'), ('north carolina', 'NC'), ('north dakota', 'ND'), ('ohio', 'OH'),
        ('oklahoma', 'OK'), ('oregon', 'OR'), ('pennsylvania', 'PA'), ('rhode island', 'RI'),
        ('south carolina', 'SC'), ('south dakota', 'SD'), ('tennessee', 'TN'), ('texas', 'TX'),
        ('utah', 'UT'), ('vermont', 'VT'), ('virginia', 'VA'), ('washington', 'WA'),
        ('west virginia', 'WV'), ('wisconsin', 'WI'), ('wyoming', 'WY'),
        ('american samoa', 'AS'), ('guam', 'GU'), ('northern mariana islands', 'MP'),
        ('puerto rico', 'PR'), ('u.s. virgin islands', 'VI')
    ) as states (state_name, state_code)
),

owner_addresses as (
    select
        'patient' as owner_kind,
        patient_id as owner_id,
        city,
        state,
        zip,
        county
    from deid_synthea__patients

    union all

    select
        'organization' as owner_kind,
        organization_id as owner_id,
        city,
        state,
        zip,
        cast(null as {{ dbt.type_string() }}) as county
    from deid_synthea__organizations

    union all

    select
        'provider' as owner_kind,
        provider_id as owner_id,
        city,
        state,
        zip,
        cast(null as {{ dbt.type_string() }}) as county
    from deid_synthea__providers
),

trimmed as (
    select
        owner_kind,
        owner_id,
        nullif(trim(city), '') as city,
        nullif(trim(state), '') as state_text,
        nullif(trim(zip), '') as zip,
        nullif(trim(county), '') as county
    from owner_addresses
),

normalized as (
    -- the state as its two-letter code: a known name is translated, a two-letter
    -- value is kept (upper case), anything else is left out of the key
    select
        trimmed.owner_kind,
        trimmed.owner_id,
        trimmed.city,
        trimmed.state_text,
        coalesce(
            state_by_name.state_code,
            case when length(trimmed.state_text) = 2 then upper(trimmed.state_text) end
        ) as state,
        trimmed.zip,
        trimmed.county,
        (
            state_by_name.state_code is not null
            or state_by_code.state_code is not null
        ) as is_us_state
    from trimmed
    left outer join us_states as state_by_name
        on lower(trimmed.state_text) = state_by_name.state_name
    left outer join us_states as state_by_code
        on upper(trimmed.state_text) = state_by_code.state_code
),

final as (
    select
        owner_kind,
        owner_id,
        {{ ehr2omop_row_hash(['city', 'state', 'zip', 'county']) }} as location_key,
        city,
        state,
        zip,
        county,
        state_text,
        is_us_state
    from normalized
    where
        city is not null
        or state is not null
        or zip is not null
        or county is not null
)

select * from final
