{#-
    Incremental batches (docs/decisions/0013-incremental-batches-by-person.md).

    With the var `batch_mode` (`ehr2omop update`, or dbt --vars '{batch_mode: true}'),
    a build recomputes only the persons a new batch touches: the patients of the raw rows of the
    batches no build has included yet (staging.built_batches), and of the older rows that share
    an id with them (stg_synthea__batch_patients). Every person-keyed table deletes those
    persons' rows and inserts them again, computed from all batches; the other tables are
    rebuilt. Without the var every build is a full rebuild, as before.
-#}

{#- True in a batch (incremental) build; never for a unit test, which checks a model's logic
    on its given rows (the full build's SQL). -#}
{% macro batch_mode() -%}
    {%- if model is defined and model is not none and (model.get('resource_type') if model is mapping else model.resource_type) == 'unit_test' -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(var('batch_mode', false) in [true, 'true', 'True', 1, '1']) }}
{%- endmacro %}


{#- The config of a person-keyed table: a table in a full build; in a batch build an
    incremental table (never fully refreshed) whose rows of the batch's persons are deleted
    first, by `key` (a column of the model: patient_id or person_id), in `layer` ('staging'
    for the raw patient id, 'mapped' for the pseudonym or person id). In both, an index on
    the key (batch_key_index). -#}
{% macro batch_config(key, layer='mapped') -%}
    {#- in every build: an index on the key, so that a batch build's delete and reads find the
        batch's persons without reading the whole table -#}
    {{ config(post_hook=["{{ batch_key_index('" ~ key ~ "') }}"]) }}
    {%- if batch_mode() -%}
        {#- the pre-hook reads the batch's keys: a dependency dbt cannot see in a hook -#}
        {%- do ref('stg_synthea__batch_patients' if layer == 'staging' else 'batch_persons') -%}
        {{ config(
            materialized='incremental',
            incremental_strategy='append',
            full_refresh=false,
            on_schema_change='fail',
            pre_hook=["{{ batch_delete('" ~ key ~ "', '" ~ layer ~ "') }}"],
        ) }}
    {%- endif -%}
{%- endmacro %}


{#- A subquery of the keys (`key`) of the batch's persons, for the layer of the calling model:
    raw patient ids in staging (stg_synthea__batch_patients), pseudonyms (patient_id) or person
    ids (person_id) past it (batch_persons). -#}
{% macro batch_keys(key, layer='mapped') -%}
    {%- if layer == 'staging' -%}
        (select patient_id from {{ ref('stg_synthea__batch_patients') }})
    {%- elif key in ['patient_id', 'person_id'] -%}
        (select {{ key }} from {{ ref('batch_persons') }} where {{ key }} is not null)
    {%- else -%}
        {{ exceptions.raise_compiler_error("batch_keys: key '" ~ key ~ "' is not patient_id or person_id") }}
    {%- endif -%}
{%- endmacro %}


{#- Pre-hook of a person-keyed incremental table: delete the batch's persons' rows. -#}
{% macro batch_delete(key, layer='mapped') -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ key }} in {{ batch_keys(key, layer) }}
    {%- endif -%}
{%- endmacro %}


{#- `relation` in a full build; in a batch build only the rows of the batch's persons. -#}
{% macro batch_rows(relation, key, layer='mapped') -%}
    {%- if batch_mode() -%}
        (select * from {{ relation }} where {{ key }} in {{ batch_keys(key, layer) }})
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}


{#- on-run-end: after a run that built stg_synthea__batch_patients (every full or batch build
    does) with no model, seed or snapshot in error, every loaded batch counts as built (a
    failing test leaves the data built; it does not make the next batch build redo them). -#}
{% macro record_built_batches(results) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set built = results | selectattr('node.name', 'equalto', 'stg_synthea__batch_patients')
        | selectattr('status', 'equalto', 'success') | list -%}
    {%- set errors = results | selectattr('node.resource_type', 'in', ['model', 'seed', 'snapshot'])
        | rejectattr('status', 'in', ['success', 'pass']) | list -%}
    {%- if built and not errors -%}
        {%- set table = api.Relation.create(database=target.database, schema='staging', identifier='built_batches') -%}
        {%- call statement('record_built_batches') -%}
            create table if not exists {{ table }} (
                batch_id text primary key,
                built_at timestamptz not null default now()
            );
            insert into {{ table }} (batch_id)
            select distinct manifest.batch_id
            from {{ source('ehr2omop_load', 'load_manifest') }} as manifest
            where not exists (select 1 from {{ table }} as built where built.batch_id = manifest.batch_id);
        {%- endcall -%}
    {%- endif -%}
{%- endmacro %}


{#- Pre-hook of stg_synthea__shared_texts: in a batch build, keep the previous build's texts in
    staging.shared_texts_before, for stg_synthea__batch_text_patients. -#}
{% macro batch_save_shared_texts() -%}
    {%- if batch_mode() and execute and adapter.get_relation(this.database, this.schema, this.identifier) is not none -%}
        drop table if exists {{ this.schema }}.shared_texts_before;
        create table {{ this.schema }}.shared_texts_before as select * from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#- Post-hook of batch_config: an index on `key` unless the table has one that starts with it
    (unnamed: PostgreSQL picks a name no other relation has, such as dbt's backup of the table). -#}
{% macro batch_key_index(key) -%}
    do $$
    begin
        if not exists (
            select 1
            from pg_index as i
            inner join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
            where i.indrelid = '{{ this }}'::regclass and a.attname = '{{ key }}'
        ) then
            create index on {{ this }} ({{ adapter.quote(key) }});
        end if;
    end
    $$
{%- endmacro %}


{#- Pre-hook of stg_synthea__batch_patients: indexes on the raw tables' patient, id and batch
    columns (once; raw tables are never rebuilt), which the batch's rows are found by. -#}
{% macro batch_raw_indexes() -%}
    {%- for entity in batch_person_entities() -%}
        {%- set relation = source('synthea', entity.name) -%}
        {%- for column in [entity.person_column, entity.key, '_batch_id'] if column -%}
            create index if not exists {{ adapter.quote(entity.name ~ '__' ~ column.strip('_') ~ '_idx') }}
                on {{ relation }} ({{ adapter.quote(column) }});
        {% endfor -%}
    {%- endfor -%}
{%- endmacro %}


{#- The Synthea entities with a patient: name, id column (`key`), the registry column
    patient_id (`person`) and the raw column it is read from (`person_column`). -#}
{% macro batch_person_entities() -%}
    {%- set entities = [] -%}
    {%- for name in synthea_entity_names() -%}
        {%- set entity = synthea_entity(name) -%}
        {%- set person = entity.columns | selectattr('name', 'equalto', 'patient_id') | list -%}
        {%- if person -%}
            {%- do entities.append({
                'name': name, 'key': entity.get('key'), 'person': person[0],
                'person_column': person[0].source if person[0].source is string else none,
            }) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(entities) }}
{%- endmacro %}
