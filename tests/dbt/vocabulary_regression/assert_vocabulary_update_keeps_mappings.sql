{#-
    Vocabulary regression: a source code the data uses that had a usable
    mapping under the previous vocabulary version (a row of the snapshot
    vocabulary_mappings_snapshot with is_mapped, valid when the current
    version was loaded) and has none now (vocabulary_mappings: no row with
    is_mapped). One failing row per such code, with the rows of data using
    it; the codes are also written to the dbt log, so a failing build names
    them.

    Severity: warn from the first lost code, error beyond the var
    vocab_regression_max_lost_codes (default 0, so any lost code errors).
    A lost mapping silently turns events into concept 0, which changes
    every analysis over them; a vocabulary update is a deliberate step, so
    the build stops until someone maps the code (custom source_to_concept_map)
    or accepts the loss by raising the var for that run.
-#}
{{ config(
    tags=['vocab_regression'],
    severity='error',
    warn_if='>0',
    error_if='>' ~ var('vocab_regression_max_lost_codes', 0),
) }}

{%- set lost_codes_sql -%}
with

vocabulary_mappings as (
    select * from {{ ref('vocabulary_mappings') }}
),

vocabulary_mappings_snapshot as (
    select * from {{ ref('vocabulary_mappings_snapshot') }}
),

vocabulary_load as (
    select * from {{ source('vocab_loader', 'vocabulary_load') }}
),

current_version as (
    select vocabulary_version
    from vocabulary_load
    order by loaded_at desc
    limit 1
),

previous_load as (
    -- the latest load of another version than the current one
    select
        vocabulary_load.vocabulary_version,
        vocabulary_load.loaded_at
    from vocabulary_load
    cross join current_version
    where vocabulary_load.vocabulary_version != current_version.vocabulary_version
    order by vocabulary_load.loaded_at desc
    limit 1
),

version_switch as (
    -- the first load after it: the previous version held until then (the snapshot
    -- stores server-local timestamps without time zone, as dbt writes them)
    select
        previous_load.vocabulary_version as previous_version,
        cast(min(vocabulary_load.loaded_at) as timestamp) as switched_at
    from vocabulary_load
    inner join previous_load
        on vocabulary_load.loaded_at > previous_load.loaded_at
    group by previous_load.vocabulary_version
),

previously_mapped as (
    select distinct
        vocabulary_mappings_snapshot.source_vocabulary_id,
        vocabulary_mappings_snapshot.source_code,
        version_switch.previous_version
    from vocabulary_mappings_snapshot
    inner join version_switch
        on vocabulary_mappings_snapshot.dbt_valid_from <= version_switch.switched_at
            and coalesce(vocabulary_mappings_snapshot.dbt_valid_to, 'infinity') > version_switch.switched_at
    where vocabulary_mappings_snapshot.is_mapped
),

current_codes as (
    select
        source_vocabulary_id,
        source_code,
        bool_or(is_mapped) as is_mapped,
        max(source_row_count) as source_row_count,
        max(vocabulary_version) as vocabulary_version
    from vocabulary_mappings
    group by source_vocabulary_id, source_code
),

final as (
    select
        previously_mapped.source_vocabulary_id,
        previously_mapped.source_code,
        previously_mapped.previous_version,
        current_codes.vocabulary_version as current_version,
        current_codes.source_row_count
    from previously_mapped
    inner join current_codes
        on previously_mapped.source_vocabulary_id = current_codes.source_vocabulary_id
            and previously_mapped.source_code = current_codes.source_code
    where not current_codes.is_mapped
)

select * from final
{%- endset %}

{%- if execute and load_relation(ref('vocabulary_mappings_snapshot')) is not none
    and load_relation(ref('vocabulary_mappings')) is not none %}
    {%- set lost = run_query(
        lost_codes_sql ~ ' order by source_row_count desc, source_vocabulary_id, source_code'
    ) %}
    {%- if lost.rows | length > 0 %}
        {%- set names = [] %}
        {%- for row in lost.rows %}
            {%- do names.append(row['source_vocabulary_id'] ~ ' ' ~ row['source_code']
                ~ ' (' ~ row['source_row_count'] ~ ' rows)') %}
        {%- endfor %}
        {{- log(
            'vocab_regression: ' ~ (lost.rows | length) ~ ' source code(s) mapped under vocabulary '
            ~ lost.rows[0]['previous_version'] ~ ' lost their mapping under '
            ~ lost.rows[0]['current_version']
            ~ ' (max allowed: ' ~ var('vocab_regression_max_lost_codes', 0) ~ '): ' ~ names | join(', '),
            info=True,
        ) }}
    {%- endif %}
{%- endif %}

{{ lost_codes_sql }}
