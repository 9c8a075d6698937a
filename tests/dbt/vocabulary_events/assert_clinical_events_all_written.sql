{#-
    Row accounting from the clinical events to the six OMOP event tables:
    every row of mapped_clinical_events is written at least once, and the
    six tables hold exactly one row per event and standard concept its code
    maps to (one row for a code that maps to nothing). One failing row per
    source entity whose counts do not add up, naming the counts; its message
    is logged at the end of a run it fails (log_test_findings). OMOP
    rows are traced back to their event through
    their table's id map (source_key = event_key|target concept).
-#}
{{ config(tags=['row_accounting']) }}

{%- set event_tables = [
    'condition_occurrence',
    'drug_exposure',
    'procedure_occurrence',
    'device_exposure',
    'measurement',
    'observation',
] -%}

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
    {%- for table_name in event_tables %}
        {%- if not loop.first %}
            union all
        {%- endif %}
        select
            '{{ table_name }}' as table_name,
            split_part({{ table_name }}_ids.source_key, '|', 1) as event_key
        from {{ table_name }}
        left outer join {{ table_name }}_ids
            on {{ table_name }}.{{ table_name }}_id = {{ table_name }}_ids.id
    {%- endfor %}
),

targets_per_code as (
    select
        source_code,
        source_vocabulary_id,
        count(*) as target_count
    from source_to_standard
    group by source_code, source_vocabulary_id
),

expected as (
    select
        mapped_clinical_events.source_entity,
        count(*) as events,
        sum(coalesce(targets_per_code.target_count, 1)) as expected_rows
    from mapped_clinical_events
    left outer join targets_per_code
        on mapped_clinical_events.source_code = targets_per_code.source_code
            and mapped_clinical_events.source_vocabulary_id = targets_per_code.source_vocabulary_id
    group by mapped_clinical_events.source_entity
),

written_events as (
    -- each event written, with the number of rows it was written as
    select
        omop_rows.event_key,
        count(*) as omop_rows
    from omop_rows
    group by omop_rows.event_key
),

written as (
    select
        coalesce(mapped_clinical_events.source_entity, '(no event)') as source_entity,
        count(mapped_clinical_events.event_key) as events_written,
        sum(written_events.omop_rows) as omop_rows
    from written_events
    left outer join mapped_clinical_events
        on written_events.event_key = mapped_clinical_events.event_key
    group by coalesce(mapped_clinical_events.source_entity, '(no event)')
),

final as (
    select
        coalesce(expected.source_entity, written.source_entity) as source_entity,
        coalesce(expected.events, 0) as events,
        coalesce(written.events_written, 0) as events_written,
        coalesce(expected.expected_rows, 0) as expected_rows,
        coalesce(written.omop_rows, 0) as omop_rows,
        'clinical event accounting: ' || coalesce(expected.source_entity, written.source_entity)
        || ' has ' || coalesce(expected.events, 0) || ' events, '
        || coalesce(written.events_written, 0) || ' written; expected '
        || coalesce(expected.expected_rows, 0) || ' OMOP rows, found '
        || coalesce(written.omop_rows, 0) as message
    from expected
    full outer join written
        on expected.source_entity = written.source_entity
    where coalesce(expected.events, 0) != coalesce(written.events_written, 0)
        or coalesce(expected.expected_rows, 0) != coalesce(written.omop_rows, 0)
)

select * from final
