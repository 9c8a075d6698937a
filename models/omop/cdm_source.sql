{#-
    The one row describing this CDM instance. Its names come from vars
    (cdm_source_name, default 'ehr2omop'; cdm_source_abbreviation and cdm_holder,
    default the name; cdm_source_description; cdm_source_documentation_reference;
    ehr2omop_version). The source release is the day the last extract was landed
    (the raw load manifest), the CDM release is the day of the build.
-#}
{%- set source_name = var('cdm_source_name', 'ehr2omop') -%}
{%- set texts = {
    'cdm_source_name': source_name,
    'cdm_source_abbreviation': var('cdm_source_abbreviation', source_name),
    'cdm_holder': var('cdm_holder', source_name),
    'source_description': var(
        'cdm_source_description', 'EHR extracts transformed to the OMOP CDM v5.4 by ehr2omop'
    ),
    'source_documentation_reference': var('cdm_source_documentation_reference', none),
    'cdm_etl_reference': 'ehr2omop ' ~ var('ehr2omop_version', '0.1.0'),
} -%}
{#- each text as a SQL string literal (quotes doubled), or null -#}
{%- set literals = {} -%}
{%- for name, value in texts.items() -%}
    {%- if value is none -%}
        {%- do literals.update({name: 'null'}) -%}
    {%- else -%}
        {%- do literals.update({name: "'" ~ (value | string | replace("'", "''")) ~ "'"}) -%}
    {%- endif -%}
{%- endfor %}

with

load_manifest as (
    select * from {{ source('ehr2omop_load', 'load_manifest') }}
),

vocabulary as (
    select * from {{ source('vocab', 'vocabulary') }}
),

concept as (
    select * from {{ source('vocab', 'concept') }}
),

last_load as (
    select max(cast(loaded_at as date)) as loaded_date
    from load_manifest
),

vocabulary_release as (
    -- the release of the whole vocabulary is the version of the vocabulary 'None'
    select max(vocabulary_version) as vocabulary_version
    from vocabulary
    where vocabulary_id = 'None'
),

cdm_version_concept as (
    -- OMOP CDM Version 5.4.0 when the loaded vocabulary has it
    select coalesce(max(concept_id), {{ fixed_concept('no_matching_concept') }}) as concept_id
    from concept
    where concept_id = {{ fixed_concept('cdm_version_5_4_0') }}
),

final as (
    select
        cast({{ literals['cdm_source_name'] }} as varchar(255)) as cdm_source_name,
        cast(left({{ literals['cdm_source_abbreviation'] }}, 25) as varchar(25)) as cdm_source_abbreviation,
        cast({{ literals['cdm_holder'] }} as varchar(255)) as cdm_holder,
        cast({{ literals['source_description'] }} as text) as source_description,
        cast({{ literals['source_documentation_reference'] }} as varchar(255))
            as source_documentation_reference,
        cast({{ literals['cdm_etl_reference'] }} as varchar(255)) as cdm_etl_reference,
        -- no landed extract yet: the day of the build
        cast(coalesce(last_load.loaded_date, current_date) as date) as source_release_date,
        cast(current_date as date) as cdm_release_date,
        cast('5.4' as varchar(10)) as cdm_version,
        cast(cdm_version_concept.concept_id as integer) as cdm_version_concept_id,
        cast(left(coalesce(vocabulary_release.vocabulary_version, 'unknown'), 20) as varchar(20))
            as vocabulary_version
    from last_load
    cross join vocabulary_release
    cross join cdm_version_concept
)

select * from final
