{#-
    One row per valid staged clinical record, in one shape whatever table it
    came from: who, when, which code in which vocabulary, its values, and the
    domain its source table suggests (used only when the code maps to nothing).

    Each staging model is read once. Care plans are left out on purpose: a
    care plan is an intention, not an event, and the CDM has no table for it
    (ETL-Synthea does not map them either).

    event_key is stable across runs: the entity name and the hash of all the
    staged data columns of the record (exact duplicates are removed in
    staging). De-identification can make two staged records equal (two
    devices that differ only in the UDI it drops): the second and later of
    such repeats get `:<n>` appended, so event_key stays unique. Imaging
    studies are the exception: Synthea writes one row per image instance, and
    the event is the study, so their key hashes the study id and its
    procedure code.
-#}
{{ config(
    indexes=[
        {'columns': ['event_key']},
    ],
) }}
{{ batch_config('patient_id') }}

{%- set local_code_prefix = var('local_code_prefix', 'EHR-') -%}

with

deid_synthea__conditions as (
    select * from {{ batch_rows(ref('deid_synthea__conditions'), 'patient_id') }}
),

deid_synthea__medications as (
    select * from {{ batch_rows(ref('deid_synthea__medications'), 'patient_id') }}
),

deid_synthea__immunizations as (
    select * from {{ batch_rows(ref('deid_synthea__immunizations'), 'patient_id') }}
),

deid_synthea__observations as (
    select * from {{ batch_rows(ref('deid_synthea__observations'), 'patient_id') }}
),

deid_synthea__procedures as (
    select * from {{ batch_rows(ref('deid_synthea__procedures'), 'patient_id') }}
),

deid_synthea__devices as (
    select * from {{ batch_rows(ref('deid_synthea__devices'), 'patient_id') }}
),

deid_synthea__supplies as (
    select * from {{ batch_rows(ref('deid_synthea__supplies'), 'patient_id') }}
),

deid_synthea__allergies as (
    select * from {{ batch_rows(ref('deid_synthea__allergies'), 'patient_id') }}
),

deid_synthea__imaging_studies as (
    select * from {{ batch_rows(ref('deid_synthea__imaging_studies'), 'patient_id') }}
),

demo_source_to_concept_map as (
    select * from {{ ref('demo_source_to_concept_map') }}
),

custom_source_to_concept_map as (
    select * from {{ ref('custom_source_to_concept_map') }}
),

condition_events as (
    select
        'conditions' as source_entity,
        {{ ehr2omop_row_hash(staging_column_names(synthea_entity('conditions'))) }} as row_hash,
        patient_id,
        encounter_id,
        start_date,
        cast(start_date as timestamp) as start_datetime,
        stop_date as end_date,
        cast(stop_date as timestamp) as end_datetime,
        code as source_code,
        code_system,
        'SNOMED' as default_vocabulary_id,
        description as source_description,
        cast(null as numeric) as value_as_number,
        cast(null as {{ dbt.type_string() }}) as value_as_string,
        cast(null as {{ dbt.type_string() }}) as value_source_value,
        cast(null as {{ dbt.type_string() }}) as value_source_code,
        cast(null as {{ dbt.type_string() }}) as value_source_vocabulary_id,
        cast(null as {{ dbt.type_string() }}) as qualifier_source_value,
        cast(null as {{ dbt.type_string() }}) as unit_source_value,
        cast(null as numeric) as quantity,
        cast(null as integer) as days_supply,
        cast(null as {{ dbt.type_string() }}) as unique_device_id,
        {{ fixed_concept('type_ehr') }} as type_concept_id,
        'Condition' as fallback_domain_id,
        cast(null as {{ dbt.type_string() }}) as fixed_domain_id
    from deid_synthea__conditions
),

medication_events as (
    select
        'medications' as source_entity,
        {{ ehr2omop_row_hash(staging_column_names(synthea_entity('medications'))) }} as row_hash,
        patient_id,
        encounter_id,
        cast(start_datetime as date) as start_date,
        start_datetime,
        cast(stop_datetime as date) as end_date,
        stop_datetime as end_datetime,
        code as source_code,
        cast(null as {{ dbt.type_string() }}) as code_system,
        'RxNorm' as default_vocabulary_id,
        description as source_description,
        cast(null as numeric) as value_as_number,
        cast(null as {{ dbt.type_string() }}) as value_as_string,
        cast(null as {{ dbt.type_string() }}) as value_source_value,
        cast(null as {{ dbt.type_string() }}) as value_source_code,
        cast(null as {{ dbt.type_string() }}) as value_source_vocabulary_id,
        cast(null as {{ dbt.type_string() }}) as qualifier_source_value,
        cast(null as {{ dbt.type_string() }}) as unit_source_value,
        -- the number of fills: the only count Synthea gives; none when not positive
        cast(case when dispenses > 0 then dispenses end as numeric) as quantity,
        -- days between start and stop, at least one; none while still active
        case
            when cast(stop_datetime as date) >= cast(start_datetime as date)
                then greatest(cast(stop_datetime as date) - cast(start_datetime as date), 1)
        end as days_supply,
        cast(null as {{ dbt.type_string() }}) as unique_device_id,
        {{ fixed_concept('type_ehr_prescription') }} as type_concept_id,
        'Drug' as fallback_domain_id,
        cast(null as {{ dbt.type_string() }}) as fixed_domain_id
    from deid_synthea__medications
),

immunization_events as (
    select
        'immunizations' as source_entity,
        {{ ehr2omop_row_hash(staging_column_names(synthea_entity('immunizations'))) }} as row_hash,
        patient_id,
        encounter_id,
        cast(immunization_datetime as date) as start_date,
        immunization_datetime as start_datetime,
        cast(immunization_datetime as date) as end_date,
        immunization_datetime as end_datetime,
        code as source_code,
        cast(null as {{ dbt.type_string() }}) as code_system,
        'CVX' as default_vocabulary_id,
        description as source_description,
        cast(null as numeric) as value_as_number,
        cast(null as {{ dbt.type_string() }}) as value_as_string,
        cast(null as {{ dbt.type_string() }}) as value_source_value,
        cast(null as {{ dbt.type_string() }}) as value_source_code,
        cast(null as {{ dbt.type_string() }}) as value_source_vocabulary_id,
        cast(null as {{ dbt.type_string() }}) as qualifier_source_value,
        cast(null as {{ dbt.type_string() }}) as unit_source_value,
        cast(1 as numeric) as quantity,
        1 as days_supply,
        cast(null as {{ dbt.type_string() }}) as unique_device_id,
        {{ fixed_concept('type_ehr_administration_record') }} as type_concept_id,
        'Drug' as fallback_domain_id,
        cast(null as {{ dbt.type_string() }}) as fixed_domain_id
    from deid_synthea__immunizations
),

observation_events as (
    select
        'observations' as source_entity,
        {{ ehr2omop_row_hash(staging_column_names(synthea_entity('observations'))) }} as row_hash,
        patient_id,
        encounter_id,
        cast(observation_datetime as date) as start_date,
        observation_datetime as start_datetime,
        cast(null as date) as end_date,
        cast(null as timestamp) as end_datetime,
        code as source_code,
        cast(null as {{ dbt.type_string() }}) as code_system,
        'LOINC' as default_vocabulary_id,
        description as source_description,
        value_as_number,
        case when value_as_number is null then value end as value_as_string,
        value as value_source_value,
        cast(null as {{ dbt.type_string() }}) as value_source_code,
        cast(null as {{ dbt.type_string() }}) as value_source_vocabulary_id,
        cast(null as {{ dbt.type_string() }}) as qualifier_source_value,
        unit as unit_source_value,
        cast(null as numeric) as quantity,
        cast(null as integer) as days_supply,
        cast(null as {{ dbt.type_string() }}) as unique_device_id,
        case
            when category = 'laboratory' then {{ fixed_concept('type_lab') }}
            else {{ fixed_concept('type_ehr') }}
        end as type_concept_id,
        case
            when value_as_number is not null then 'Measurement'
            else 'Observation'
        end as fallback_domain_id,
        cast(null as {{ dbt.type_string() }}) as fixed_domain_id
    from deid_synthea__observations
),

procedure_events as (
    select
        'procedures' as source_entity,
        {{ ehr2omop_row_hash(staging_column_names(synthea_entity('procedures'))) }} as row_hash,
        patient_id,
        encounter_id,
        cast(start_datetime as date) as start_date,
        start_datetime,
        cast(stop_datetime as date) as end_date,
        stop_datetime as end_datetime,
        code as source_code,
        cast(null as {{ dbt.type_string() }}) as code_system,
        'SNOMED' as default_vocabulary_id,
        description as source_description,
        cast(null as numeric) as value_as_number,
        cast(null as {{ dbt.type_string() }}) as value_as_string,
        cast(null as {{ dbt.type_string() }}) as value_source_value,
        cast(null as {{ dbt.type_string() }}) as value_source_code,
        cast(null as {{ dbt.type_string() }}) as value_source_vocabulary_id,
        cast(null as {{ dbt.type_string() }}) as qualifier_source_value,
        cast(null as {{ dbt.type_string() }}) as unit_source_value,
        cast(null as numeric) as quantity,
        cast(null as integer) as days_supply,
        cast(null as {{ dbt.type_string() }}) as unique_device_id,
        {{ fixed_concept('type_ehr') }} as type_concept_id,
        'Procedure' as fallback_domain_id,
        cast(null as {{ dbt.type_string() }}) as fixed_domain_id
    from deid_synthea__procedures
),

device_events as (
    select
        'devices' as source_entity,
        {{ ehr2omop_row_hash(staging_column_names(synthea_entity('devices'))) }} as row_hash,
        patient_id,
        encounter_id,
        cast(start_datetime as date) as start_date,
        start_datetime,
        cast(stop_datetime as date) as end_date,
        stop_datetime as end_datetime,
        code as source_code,
        cast(null as {{ dbt.type_string() }}) as code_system,
        'SNOMED' as default_vocabulary_id,
        description as source_description,
        cast(null as numeric) as value_as_number,
        cast(null as {{ dbt.type_string() }}) as value_as_string,
        cast(null as {{ dbt.type_string() }}) as value_source_value,
        cast(null as {{ dbt.type_string() }}) as value_source_code,
        cast(null as {{ dbt.type_string() }}) as value_source_vocabulary_id,
        cast(null as {{ dbt.type_string() }}) as qualifier_source_value,
        cast(null as {{ dbt.type_string() }}) as unit_source_value,
        cast(null as numeric) as quantity,
        cast(null as integer) as days_supply,
        udi as unique_device_id,
        {{ fixed_concept('type_ehr') }} as type_concept_id,
        'Device' as fallback_domain_id,
        cast(null as {{ dbt.type_string() }}) as fixed_domain_id
    from deid_synthea__devices
),

supply_events as (
    select
        'supplies' as source_entity,
        {{ ehr2omop_row_hash(staging_column_names(synthea_entity('supplies'))) }} as row_hash,
        patient_id,
        encounter_id,
        supply_date as start_date,
        cast(supply_date as timestamp) as start_datetime,
        supply_date as end_date,
        cast(supply_date as timestamp) as end_datetime,
        code as source_code,
        cast(null as {{ dbt.type_string() }}) as code_system,
        'SNOMED' as default_vocabulary_id,
        description as source_description,
        cast(null as numeric) as value_as_number,
        cast(null as {{ dbt.type_string() }}) as value_as_string,
        cast(null as {{ dbt.type_string() }}) as value_source_value,
        cast(null as {{ dbt.type_string() }}) as value_source_code,
        cast(null as {{ dbt.type_string() }}) as value_source_vocabulary_id,
        cast(null as {{ dbt.type_string() }}) as qualifier_source_value,
        cast(null as {{ dbt.type_string() }}) as unit_source_value,
        quantity,
        cast(null as integer) as days_supply,
        cast(null as {{ dbt.type_string() }}) as unique_device_id,
        {{ fixed_concept('type_ehr') }} as type_concept_id,
        'Device' as fallback_domain_id,
        cast(null as {{ dbt.type_string() }}) as fixed_domain_id
    from deid_synthea__supplies
),

allergy_events as (
    -- an allergy is an observation about the patient whatever the domain of
    -- the allergen (a drug, a food, an organism): fixed_domain_id keeps it in
    -- observation; the first reaction is its value, its severity the qualifier
    select
        'allergies' as source_entity,
        {{ ehr2omop_row_hash(staging_column_names(synthea_entity('allergies'))) }} as row_hash,
        patient_id,
        encounter_id,
        start_date,
        cast(start_date as timestamp) as start_datetime,
        stop_date as end_date,
        cast(stop_date as timestamp) as end_datetime,
        code as source_code,
        code_system,
        -- Synthea codes an allergen in SNOMED or RxNorm and some extracts name
        -- no system ('Unknown'): a SNOMED CT id has at least 6 digits, so a
        -- shorter code is an RxNorm ingredient (e.g. 7984 penicillin V)
        case when length(code) < 6 then 'RxNorm' else 'SNOMED' end as default_vocabulary_id,
        description as source_description,
        cast(null as numeric) as value_as_number,
        reaction_1_description as value_as_string,
        reaction_1_code as value_source_value,
        reaction_1_code as value_source_code,
        case when reaction_1_code is not null then 'SNOMED' end as value_source_vocabulary_id,
        reaction_1_severity as qualifier_source_value,
        cast(null as {{ dbt.type_string() }}) as unit_source_value,
        cast(null as numeric) as quantity,
        cast(null as integer) as days_supply,
        cast(null as {{ dbt.type_string() }}) as unique_device_id,
        {{ fixed_concept('type_ehr') }} as type_concept_id,
        'Observation' as fallback_domain_id,
        'Observation' as fixed_domain_id
    from deid_synthea__allergies
),

imaging_studies as (
    -- one event per study and procedure code; Synthea writes one row per image
    select
        imaging_study_id,
        procedure_code,
        min(patient_id) as patient_id,
        min(encounter_id) as encounter_id,
        min(study_datetime) as study_datetime
    from deid_synthea__imaging_studies
    where procedure_code is not null
    group by imaging_study_id, procedure_code
),

imaging_events as (
    select
        'imaging_studies' as source_entity,
        {{ ehr2omop_row_hash(['imaging_study_id', 'procedure_code']) }} as row_hash,
        patient_id,
        encounter_id,
        cast(study_datetime as date) as start_date,
        study_datetime as start_datetime,
        cast(study_datetime as date) as end_date,
        study_datetime as end_datetime,
        procedure_code as source_code,
        cast(null as {{ dbt.type_string() }}) as code_system,
        'SNOMED' as default_vocabulary_id,
        cast(null as {{ dbt.type_string() }}) as source_description,
        cast(null as numeric) as value_as_number,
        cast(null as {{ dbt.type_string() }}) as value_as_string,
        cast(null as {{ dbt.type_string() }}) as value_source_value,
        cast(null as {{ dbt.type_string() }}) as value_source_code,
        cast(null as {{ dbt.type_string() }}) as value_source_vocabulary_id,
        cast(null as {{ dbt.type_string() }}) as qualifier_source_value,
        cast(null as {{ dbt.type_string() }}) as unit_source_value,
        cast(null as numeric) as quantity,
        cast(null as integer) as days_supply,
        cast(null as {{ dbt.type_string() }}) as unique_device_id,
        {{ fixed_concept('type_ehr') }} as type_concept_id,
        'Procedure' as fallback_domain_id,
        cast(null as {{ dbt.type_string() }}) as fixed_domain_id
    from imaging_studies
),

-- rows of an entity whose boundary loses detail (a dropped UDI, an unshared free text) can be
-- equal in every hashed column: those repeats are numbered so that event_key stays unique
unioned as (
    {%- for cte, entity in [
        ('condition_events', 'conditions'),
        ('medication_events', 'medications'),
        ('immunization_events', 'immunizations'),
        ('observation_events', 'observations'),
        ('procedure_events', 'procedures'),
        ('device_events', 'devices'),
        ('supply_events', 'supplies'),
        ('allergy_events', 'allergies'),
        ('imaging_events', 'imaging_studies'),
    ] %}
    {%- set hashed = ['imaging_study_id', 'procedure_code'] if entity == 'imaging_studies'
        else staging_column_names(synthea_entity(entity)) %}
        {%- if not loop.first %}
            union all
        {%- endif %}
        select
            {{ cte }}.*,
            {%- if deid_loses_detail('stg_synthea__' ~ entity, hashed) %}
                row_number() over (partition by {{ cte }}.row_hash) as repeat_number
            {%- else %}
                1 as repeat_number
            {%- endif %}
        from {{ cte }}
    {%- endfor %}
),

site_map_codes as (
    select
        source_code,
        source_vocabulary_id
    from demo_source_to_concept_map
    union all
    select
        source_code,
        source_vocabulary_id
    from custom_source_to_concept_map
),

local_code_vocabularies as (
    -- the custom vocabulary the site's own codes belong to, as its maps say
    select
        source_code,
        min(source_vocabulary_id) as source_vocabulary_id
    from site_map_codes
    group by source_code
),

vocabularies as (
    -- Synthea's code system names, read as OMOP vocabulary ids
    select
        unioned.*,
        case
            when upper(unioned.code_system) = 'LOCAL'
                or unioned.source_code like '{{ local_code_prefix }}%'
                then coalesce(local_code_vocabularies.source_vocabulary_id, 'LOCAL')
            when upper(unioned.code_system) in (
                    'SNOMED-CT', 'SNOMED CT', 'SNOMED', 'SCT', 'HTTP://SNOMED.INFO/SCT'
                )
                then 'SNOMED'
            when upper(unioned.code_system) in ('RXNORM', 'HTTP://WWW.NLM.NIH.GOV/RESEARCH/UMLS/RXNORM')
                then 'RxNorm'
            when upper(unioned.code_system) in ('CVX', 'HTTP://HL7.ORG/FHIR/SID/CVX')
                then 'CVX'
            when upper(unioned.code_system) in ('LOINC', 'HTTP://LOINC.ORG')
                then 'LOINC'
            when upper(unioned.code_system) in (
                    'ICD10', 'ICD-10', 'ICD10CM', 'ICD-10-CM', 'HTTP://HL7.ORG/FHIR/SID/ICD-10-CM'
                )
                then 'ICD10CM'
            when unioned.code_system is null or upper(unioned.code_system) in ('', 'UNKNOWN')
                then unioned.default_vocabulary_id
            else unioned.code_system
        end as source_vocabulary_id
    from unioned
    left outer join local_code_vocabularies
        on unioned.source_code = local_code_vocabularies.source_code
),

final as (
    select
        source_entity || ':' || row_hash
        || case when repeat_number > 1 then ':' || repeat_number else '' end as event_key,
        source_entity,
        patient_id,
        encounter_id,
        start_date,
        start_datetime,
        end_date,
        end_datetime,
        source_code,
        source_vocabulary_id,
        source_description,
        value_as_number,
        value_as_string,
        value_source_value,
        value_source_code,
        value_source_vocabulary_id,
        qualifier_source_value,
        unit_source_value,
        quantity,
        days_supply,
        unique_device_id,
        type_concept_id,
        fallback_domain_id,
        fixed_domain_id
    from vocabularies
)

select * from final
