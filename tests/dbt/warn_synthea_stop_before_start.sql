{#-
    Valid staged rows whose time span ends before it starts (stop < start,
    death before birth, end of coverage before its start).

    A warning, not a reject: Synthea itself writes a few such rows (e.g.
    medications whose stop precedes their start), the rest of the row is
    sound, and rejecting a patient or an encounter would take every row that
    points to it along. The mapped layer decides what an end date becomes;
    this test keeps the count visible. The result is one row per entity; the
    warning counts offending rows, not entities.
-#}
{{ config(severity='warn', fail_calc='coalesce(sum(offending_rows), 0)') }}

{%- set entities = [] -%}
{%- for name in synthea_entity_names() -%}
    {%- if synthea_entity(name).get('period') -%}
        {%- do entities.append(synthea_entity(name)) -%}
    {%- endif -%}
{%- endfor %}

with
{% for entity in entities %}
    stg_synthea__{{ entity.name }} as (
        select * from {{ ref('stg_synthea__' ~ entity.name) }}
    ),
{% endfor %}
counts as (
    {%- for entity in entities %}
        select
            '{{ entity.name }}' as entity,
            '{{ entity.period[0] }}' as start_column,
            '{{ entity.period[1] }}' as end_column,
            count(*) as offending_rows
        from stg_synthea__{{ entity.name }}
        where {{ entity.period[1] }} < {{ entity.period[0] }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select * from counts
    where offending_rows > 0
)

select * from final
