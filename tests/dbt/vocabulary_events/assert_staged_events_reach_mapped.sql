{#-
    Row accounting from staging to the clinical events: every valid staged row of
    an event entity becomes exactly one row of mapped_clinical_events, except
    where a documented filter applies:
      imaging_studies  Synthea writes one row per image: one event per study and
                       procedure code (the expected count is the distinct pairs)
      careplans        not mapped (a plan is not an event): expected 0 events
      age_over_89_before_birth
                       safe_harbor puts persons aged 90+ in one category born 90
                       years before their reference date; their rows dated before
                       that (shifted) birth date are left out by the deid boundary
                       (deid_staging_model), counted here from staging and the
                       person keys
    One failing row per entity whose counts differ, naming both counts; its
    message is logged at the end of a run it fails (log_test_findings).
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

stg_synthea__patient_keys as (
    select * from {{ ref('stg_synthea__patient_keys') }}
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
        stg_synthea__imaging_studies.imaging_study_id,
        stg_synthea__imaging_studies.procedure_code
    from stg_synthea__imaging_studies
    inner join stg_synthea__patient_keys
        on stg_synthea__imaging_studies.patient_id = stg_synthea__patient_keys.patient_id
    where
        not stg_synthea__patient_keys.is_age_aggregated
        or stg_synthea__imaging_studies.study_datetime
        + stg_synthea__patient_keys.shift_days * interval '1 day'
        >= stg_synthea__patient_keys.birth_date
),

expected as (
    {% for entity in one_event_per_row %}
        {%- set first_date = (synthea_entity(entity).columns
            | selectattr('type', 'in', ['date', 'timestamp']) | first).name %}
        select
            '{{ entity }}' as entity,
            count(*) filter (
                where not (
                    stg_synthea__patient_keys.is_age_aggregated
                    and stg_synthea__{{ entity }}.{{ first_date }}
                    + stg_synthea__patient_keys.shift_days * interval '1 day'
                    < stg_synthea__patient_keys.birth_date
                )
            ) as expected_events
        from stg_synthea__{{ entity }}
        inner join stg_synthea__patient_keys
            on stg_synthea__{{ entity }}.patient_id = stg_synthea__patient_keys.patient_id
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
        coalesce(actual.actual_events, 0) as actual_events,
        'staged event accounting: ' || coalesce(expected.entity, actual.entity) || ' expects '
        || coalesce(cast(expected.expected_events as text), 'no')
        || ' events in mapped_clinical_events, found ' || coalesce(actual.actual_events, 0) as message
    from expected
    full outer join actual
        on expected.entity = actual.entity
    where coalesce(expected.expected_events, -1) != coalesce(actual.actual_events, 0)
)

select * from final
