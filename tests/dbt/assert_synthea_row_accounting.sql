{#-
    Row accounting for the Synthea staging layer: every raw row ends either
    in its staging model (valid) or in stg_synthea__rejects (with a reason),
    exactly once. One failing row per entity whose counts do not add up,
    naming the entity and the counts; its message is logged at the end of a
    run it fails (log_test_findings), so the output names the entity
    without opening the results.
-#}
{{ config(tags=['row_accounting']) }}

{%- set entities = synthea_entity_names() -%}

with
{% for entity in entities %}
    raw_{{ entity }} as (
        select * from {{ source('synthea', entity) }}
    ),

    stg_synthea__{{ entity }} as (
        select * from {{ ref('stg_synthea__' ~ entity) }}
    ),
{% endfor %}
stg_synthea__rejects as (
    select * from {{ ref('stg_synthea__rejects') }}
),

counts as (
    {% for entity in entities %}
        select
            '{{ entity }}' as entity,
            (select count(*) from raw_{{ entity }}) as raw_rows,
            (select count(*) from stg_synthea__{{ entity }}) as staged_rows,
            (
                select count(*) from stg_synthea__rejects
                where entity = '{{ entity }}'
            ) as rejected_rows
        {% if not loop.last %}
            union all
        {% endif %}
    {% endfor %}
),

final as (
    select
        entity,
        raw_rows,
        staged_rows,
        rejected_rows,
        raw_rows - staged_rows - rejected_rows as unaccounted_rows,
        'row accounting: ' || entity || ' has ' || raw_rows || ' raw rows but '
        || staged_rows || ' staged + ' || rejected_rows || ' rejected ('
        || (raw_rows - staged_rows - rejected_rows) || ' unaccounted)' as message
    from counts
    where raw_rows != staged_rows + rejected_rows
)

select * from final
