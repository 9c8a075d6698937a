{#-
    The concept columns of the six OMOP event tables hold standard, valid
    concepts only (or 0, "no matching concept"; source concept columns are
    not checked, they hold the source code's own concept). One failing row
    per table, column and concept, with the number of rows holding it.
-#}
{%- set concept_columns = {
    'condition_occurrence': ['condition_concept_id', 'condition_type_concept_id', 'condition_status_concept_id'],
    'drug_exposure': ['drug_concept_id', 'drug_type_concept_id', 'route_concept_id'],
    'procedure_occurrence': ['procedure_concept_id', 'procedure_type_concept_id', 'modifier_concept_id'],
    'device_exposure': ['device_concept_id', 'device_type_concept_id', 'unit_concept_id'],
    'measurement': [
        'measurement_concept_id', 'measurement_type_concept_id', 'operator_concept_id',
        'value_as_concept_id', 'unit_concept_id',
    ],
    'observation': [
        'observation_concept_id', 'observation_type_concept_id', 'value_as_concept_id',
        'qualifier_concept_id', 'unit_concept_id',
    ],
} -%}

with

concept as (
    select * from {{ source('vocab', 'concept') }}
),
{% for table_name in concept_columns %}
    {{ table_name }} as (
        select * from {{ ref(table_name) }}
    ),
{% endfor %}
used_concepts as (
    {%- for table_name, columns in concept_columns.items() %}
        {%- set outer_loop = loop %}
        {%- for column_name in columns %}
            select
                '{{ table_name }}' as table_name,
                '{{ column_name }}' as column_name,
                {{ column_name }} as concept_id,
                count(*) as row_count
            from {{ table_name }}
            where {{ column_name }} != {{ fixed_concept('no_matching_concept') }}
            group by {{ column_name }}
            {%- if not (outer_loop.last and loop.last) %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
),

final as (
    select
        used_concepts.table_name,
        used_concepts.column_name,
        used_concepts.concept_id,
        used_concepts.row_count,
        concept.standard_concept,
        concept.invalid_reason
    from used_concepts
    left outer join concept
        on used_concepts.concept_id = concept.concept_id
    where concept.concept_id is null
        or concept.standard_concept is distinct from 'S'
        or concept.invalid_reason is not null
)

select * from final
