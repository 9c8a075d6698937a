{#-
    The patients a batch build recomputes (docs/decisions/0013-incremental-batches-by-person.md):
    those of the raw rows of every batch no build has included yet (not in staging.built_batches),
    and those of older rows that share an id with such a row (a record sent again, maybe under
    another patient). Empty in a full build (no batch is new to it). Raw Synthea patient ids: it
    stays in staging.
-#}
{%- set built = api.Relation.create(
    database=target.database, schema='staging', identifier='built_batches'
) -%}
{%- set person_entities = batch_person_entities() %}
{{ config(
    materialized='table',
    indexes=[{'columns': ['patient_id'], 'unique': true}],
    pre_hook=["{{ batch_raw_indexes() }}"],
) }}
{%- if batch_mode() and execute
    and adapter.get_relation(built.database, built.schema, built.identifier) is none -%}
    {{ exceptions.raise_compiler_error(
        "batch build: no full build is recorded (" ~ built ~ " is missing); "
        ~ "run a full build first (ehr2omop run, or dbt build without batch_mode)"
    ) }}
{%- endif %}

with

load_manifest as (
    select * from {{ source('ehr2omop_load', 'load_manifest') }}
),

new_batches as (
    select distinct load_manifest.batch_id
    from load_manifest
    {%- if batch_mode() %}
        where not exists (
            select 1 from {{ built }} as built_batches
            where built_batches.batch_id = load_manifest.batch_id
        )
    {%- else %}
        -- a full build recomputes everyone
        where false
    {%- endif %}
),
{% for entity in person_entities %}
    {{ entity.name }}_patients as (
        select {{ staging_raw_expr(entity.person, 'new_rows') }} as patient_id
        from {{ source('synthea', entity.name) }} as new_rows
        where new_rows._batch_id in (select new_batches.batch_id from new_batches)
        {%- if entity.key %}
            union
            -- older rows with an id the new batch sends again
            select {{ staging_raw_expr(entity.person, 'old_rows') }} as patient_id
            from {{ source('synthea', entity.name) }} as old_rows
            inner join {{ source('synthea', entity.name) }} as new_rows
                on old_rows.{{ adapter.quote(entity.key) }} = new_rows.{{ adapter.quote(entity.key) }}
            where
                new_rows._batch_id in (select new_batches.batch_id from new_batches)
                and old_rows._batch_id not in (select new_batches.batch_id from new_batches)
        {%- endif %}
    ),
{% endfor %}
final as (
    {%- for entity in person_entities %}
        select patient_id from {{ entity.name }}_patients
        {%- if not loop.last %}
            union
        {%- endif %}
    {%- endfor %}
)

select patient_id from final
where patient_id is not null
