{#-
    Row accounting from staging to the clinical events: every valid staged row of
    an event entity becomes exactly one row of mapped_clinical_events, except
    where a documented filter applies:
      imaging_studies  Synthea writes one row per image: one event per study and
                       procedure code (the expected count is the distinct pairs)
      careplans        not mapped (a plan is not an event): expected 0 events
    One failing row per entity whose counts differ, naming both counts.
-#}
{{ config(tags=['row_accounting']) }}

{%- set one_event_per_row = [
    'conditions',
    'medications',
    'immunizations',
    'observations',
    'procedures',
    'devices',
    'allergies',
    'supplies',
] -%}

with

mapped_clinical_events as (
    select * from {{ ref('mapped_clinical_events') }}
),
{% for entity in one_event_per_row %}
    stg_synthea__{{ entity }} as (
        select * from {{ ref('stg_synthea__' ~ entity) }}
    ),
{% endfor %}
stg_synthea__imaging_studies as (
    select * from {{ ref('stg_synthea__imaging_studies') }}
),

imaging_study_procedures as (
    select distinct
        imaging_study_id,
        procedure_code
    from stg_synthea__imaging_studies
),

expected as (
    {% for entity in one_event_per_row %}
        select
            '{{ entity }}' as entity,
            count(*) as expected_events
        from stg_synthea__{{ entity }}
        union all
    {% endfor %}
    select
        'imaging_studies' as entity,
        count(*) as expected_events
    from imaging_study_procedures
    union all
    select
        'careplans' as entity,
        0 as expected_events
),

actual as (
    select
        source_entity as entity,
        count(*) as actual_events
    from mapped_clinical_events
    group by source_entity
),

final as (
    select
        expected.entity,
        expected.expected_events,
        coalesce(actual.actual_events, 0) as actual_events
    from expected
    full outer join actual
        on expected.entity = actual.entity
    where coalesce(expected.expected_events, -1) != coalesce(actual.actual_events, 0)
)

select * from final
