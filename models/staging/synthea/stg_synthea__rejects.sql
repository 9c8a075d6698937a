{#- The rejected rows of every Synthea base model, one relation, each with
    the reason and the raw row as delivered. Generated from the entity list,
    so a new entity needs no edit here. -#}
{%- set entities = synthea_entity_names() -%}

with
{% for entity in entities %}
    base_synthea__{{ entity }} as (
        select * from {{ ref('base_synthea__' ~ entity) }}
    ),
{% endfor %}
{%- for entity in entities %}
    {{ entity }}_rejects as (
        select
            cast('{{ entity }}' as {{ dbt.type_string() }}) as entity,
            _reject_reason as reject_reason,
            _batch_id,
            _file_name,
            _line_number,
            _loaded_at,
            _raw_record as raw_record
        from base_synthea__{{ entity }}
        where _reject_reason is not null
    ),
{% endfor %}
final as (
    {%- for entity in entities %}
        select * from {{ entity }}_rejects
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from final
