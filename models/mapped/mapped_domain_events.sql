{#-
    The clinical events routed to their OMOP table: one row per event and
    standard concept it maps to (a code mapped to two concepts gives two
    rows), with the person, the visit, the concepts of its unit and value,
    and the key its table's id map numbers.

    Routing follows the domain of the standard concept, not the source table:
        Condition -> condition_occurrence    Drug -> drug_exposure
        Procedure -> procedure_occurrence    Device -> device_exposure
        Measurement -> measurement           any other domain -> observation
    A code that maps to nothing (concept 0) is kept and goes where its source
    table suggests (fallback_domain_id). An event with a fixed_domain_id
    (allergies) always goes to that domain.

    The six domain models read this table once each, through the index on
    target_table.
-#}
{%- set target_tables = {
    'Condition': 'condition_occurrence',
    'Drug': 'drug_exposure',
    'Procedure': 'procedure_occurrence',
    'Device': 'device_exposure',
    'Measurement': 'measurement',
} -%}
{%- set all_target_tables = target_tables.values() | list + ['observation'] -%}

{{ config(
    indexes=[
        {'columns': ['target_table']},
    ],
) }}
{{ batch_config('person_id') }}

with

mapped_clinical_events as (
    select * from {{ batch_rows(ref('mapped_clinical_events'), 'patient_id') }}
),

source_to_standard as (
    select * from {{ ref('source_to_standard') }}
),

person_ids as (
    select * from {{ ref('person_ids') }}
),

mapped_encounter_visits as (
    select * from {{ batch_rows(ref('mapped_encounter_visits'), 'person_id') }}
),

single_concepts as (
    -- a unit or a categorical value takes one concept: the lowest target id
    -- when a code maps to several
    select
        source_code,
        source_vocabulary_id,
        min(source_concept_id) as source_concept_id,
        min(target_concept_id) as target_concept_id
    from source_to_standard
    group by source_code, source_vocabulary_id
),

mapped as (
    select
        mapped_clinical_events.*,
        source_to_standard.source_concept_id,
        source_to_standard.target_concept_id,
        source_to_standard.target_domain_id,
        source_to_standard.mapping_kind,
        coalesce(
            mapped_clinical_events.fixed_domain_id,
            case
                when source_to_standard.target_concept_id != {{ fixed_concept('no_matching_concept') }}
                    then source_to_standard.target_domain_id
            end,
            mapped_clinical_events.fallback_domain_id
        ) as routed_domain_id,
        case
            when mapped_clinical_events.value_source_code is not null
                then coalesce(value_concepts.target_concept_id, {{ fixed_concept('no_matching_concept') }})
            else source_to_standard.value_as_concept_id
        end as value_as_concept_id,
        unit_concepts.target_concept_id as unit_concept_id,
        unit_concepts.source_concept_id as unit_source_concept_id
    from mapped_clinical_events
    inner join source_to_standard
        on mapped_clinical_events.source_code = source_to_standard.source_code
            and mapped_clinical_events.source_vocabulary_id = source_to_standard.source_vocabulary_id
    left outer join single_concepts as unit_concepts
        on mapped_clinical_events.unit_source_value = unit_concepts.source_code
            and unit_concepts.source_vocabulary_id = 'UCUM'
    left outer join single_concepts as value_concepts
        on mapped_clinical_events.value_source_code = value_concepts.source_code
            and mapped_clinical_events.value_source_vocabulary_id = value_concepts.source_vocabulary_id
),

routed as (
    select
        mapped.*,
        case mapped.routed_domain_id
            {%- for domain_id, table_name in target_tables.items() %}
                when '{{ domain_id }}' then '{{ table_name }}'
            {%- endfor %}
            else 'observation'
        end as target_table,
        mapped.event_key
        || '|'
        || cast(mapped.target_concept_id as {{ dbt.type_string() }}) as domain_event_key
    from mapped
),

final as (
    select
        routed.domain_event_key,
        routed.event_key,
        routed.source_entity,
        routed.target_table,
        routed.routed_domain_id,
        {%- for table_name in all_target_tables %}
            case when routed.target_table = '{{ table_name }}' then routed.domain_event_key end
                as {{ table_name }}_key,
        {%- endfor %}
        person_ids.id as person_id,
        mapped_encounter_visits.visit_occurrence_id,
        mapped_encounter_visits.visit_detail_id,
        mapped_encounter_visits.provider_id,
        routed.start_date,
        routed.start_datetime,
        routed.end_date,
        routed.end_datetime,
        routed.target_concept_id as concept_id,
        routed.source_code as source_value,
        routed.source_vocabulary_id,
        routed.source_concept_id,
        routed.mapping_kind,
        routed.type_concept_id,
        routed.value_as_number,
        routed.value_as_string,
        routed.value_as_concept_id,
        routed.value_source_value,
        routed.qualifier_source_value,
        routed.unit_concept_id,
        routed.unit_source_value,
        routed.unit_source_concept_id,
        routed.quantity,
        routed.days_supply,
        routed.unique_device_id
    from routed
    inner join person_ids
        on routed.patient_id = person_ids.source_key
    left outer join mapped_encounter_visits
        on routed.encounter_id = mapped_encounter_visits.encounter_id
)

select * from final
