{#-
    A code that maps to nothing is kept, not dropped: each event whose code
    source_to_standard leaves unmapped is written with concept 0, its code
    as source value and its source concept (0 when the vocabulary does not
    know the code). One failing row per such event written otherwise, or
    not written at all.
-#}
{%- set event_tables = {
    'condition_occurrence': 'condition',
    'drug_exposure': 'drug',
    'procedure_occurrence': 'procedure',
    'device_exposure': 'device',
    'measurement': 'measurement',
    'observation': 'observation',
} -%}

with

mapped_clinical_events as (
    select * from {{ ref('mapped_clinical_events') }}
),

source_to_standard as (
    select * from {{ ref('source_to_standard') }}
),
{% for table_name in event_tables %}
    {{ table_name }} as (
        select * from {{ ref(table_name) }}
    ),

    {{ table_name }}_ids as (
        select * from {{ ref(table_name ~ '_ids') }}
    ),
{% endfor %}
omop_rows as (
    {%- for table_name, prefix in event_tables.items() %}
        select
            '{{ table_name }}' as table_name,
            split_part({{ table_name }}_ids.source_key, '|', 1) as event_key,
            {{ table_name }}.{{ prefix }}_concept_id as concept_id,
            {{ table_name }}.{{ prefix }}_source_value as source_value,
            {{ table_name }}.{{ prefix }}_source_concept_id as source_concept_id
        from {{ table_name }}
        inner join {{ table_name }}_ids
            on {{ table_name }}.{{ table_name }}_id = {{ table_name }}_ids.id
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

unmapped_events as (
    select
        mapped_clinical_events.event_key,
        mapped_clinical_events.source_entity,
        mapped_clinical_events.source_code,
        mapped_clinical_events.source_vocabulary_id,
        source_to_standard.source_concept_id
    from mapped_clinical_events
    inner join source_to_standard
        on mapped_clinical_events.source_code = source_to_standard.source_code
            and mapped_clinical_events.source_vocabulary_id = source_to_standard.source_vocabulary_id
    where source_to_standard.mapping_kind = 'unmapped'
),

final as (
    select
        unmapped_events.source_entity,
        unmapped_events.event_key,
        unmapped_events.source_code,
        unmapped_events.source_vocabulary_id,
        omop_rows.table_name,
        omop_rows.concept_id,
        omop_rows.source_value,
        omop_rows.source_concept_id,
        unmapped_events.source_concept_id as expected_source_concept_id
    from unmapped_events
    left outer join omop_rows
        on unmapped_events.event_key = omop_rows.event_key
    where omop_rows.event_key is null
        or omop_rows.concept_id != {{ fixed_concept('no_matching_concept') }}
        or omop_rows.source_value is distinct from left(unmapped_events.source_code, 50)
        or omop_rows.source_concept_id is distinct from unmapped_events.source_concept_id
)

select * from final
