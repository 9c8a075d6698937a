{#-
    Body of an id-map model: gives every distinct source key an OMOP id that never
    changes. New keys get the next ids after the largest one already given (ordered by
    key, so a run is deterministic); keys seen before keep their id. Only new keys are
    numbered: no row_number() over the whole table per run.

    The calling model must be configured as
        {{ config(materialized='incremental', incremental_strategy='append',
                  full_refresh=false) }}
    (`stable_id_config()` renders exactly that), so `dbt build --full-refresh` cannot
    renumber it either.
-#}
{% macro stable_ids(keys_relation, key_column='source_key') -%}
    {%- if keys_relation is none or key_column is none or key_column | trim == '' -%}
        {{ exceptions.raise_compiler_error("stable_ids: keys_relation and key_column are required") }}
    {%- endif %}
with

candidate_keys as (
    select distinct {{ key_column }} as source_key
    from {{ keys_relation }}
    where {{ key_column }} is not null
),

{% if is_incremental() -%}
new_keys as (
    select candidate_keys.source_key
    from candidate_keys
    left join {{ this }} as existing
        on candidate_keys.source_key = existing.source_key
    where existing.source_key is null
),

id_base as (
    select coalesce(max(id), 0) as max_id
    from {{ this }}
),
{%- else -%}
new_keys as (
    select source_key
    from candidate_keys
),

id_base as (
    select 0 as max_id
),
{%- endif %}

final as (
    select
        new_keys.source_key,
        cast(
            id_base.max_id + row_number() over (order by new_keys.source_key)
            as {{ omop_id_type() }}
        ) as id
    from new_keys
    cross join id_base
)

select * from final
{%- endmacro %}


{#- The config every id-map model uses, with unique indexes on key and id. -#}
{% macro stable_id_config() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='fail',
        indexes=[
            {'columns': ['source_key'], 'unique': true},
            {'columns': ['id'], 'unique': true},
        ],
    ) }}
{%- endmacro %}
