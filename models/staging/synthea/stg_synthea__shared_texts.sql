{#-
    The free texts the de-identification boundary publishes: for each column with the
    shared_text rule (macros/deid/deid_column_spec.sql), the (code, text) pairs at least
    var deid_free_text_min_persons persons gave, counted as the boundary counts them. A batch
    build compares them with the previous build's (staging.shared_texts_before, saved by the
    pre-hook): a pair that changed status changes the published rows of everyone who gave it
    (stg_synthea__batch_text_patients).
-#}
{{ config(
    materialized='table',
    pre_hook=["{{ batch_save_shared_texts() }}"],
) }}

{%- set shared = deid_shared_text_columns() %}

with
{% for item in shared %}
    texts_{{ loop.index }} as (
        select
            cast('{{ item.model }}' as {{ dbt.type_string() }}) as model_name,
            cast('{{ item.column }}' as {{ dbt.type_string() }}) as column_name,
            cast({{ adapter.quote(item.code) }} as {{ dbt.type_string() }}) as code,
            cast({{ adapter.quote(item.column) }} as {{ dbt.type_string() }}) as text_value
        from {{ ref(item.model) }}
        where {{ adapter.quote(item.column) }} is not null
        group by {{ adapter.quote(item.code) }}, {{ adapter.quote(item.column) }}
        having count(distinct {{ var('deid_person_column', 'patient_id') }})
            >= {{ var('deid_free_text_min_persons', 10) | int }}
    ),
{% endfor %}
final as (
    {%- for item in shared %}
        select * from texts_{{ loop.index }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
    {%- if not shared %}
        -- no column has the shared_text rule
        select
            cast(null as {{ dbt.type_string() }}) as model_name,
            cast(null as {{ dbt.type_string() }}) as column_name,
            cast(null as {{ dbt.type_string() }}) as code,
            cast(null as {{ dbt.type_string() }}) as text_value
        where false
    {%- endif %}
)

select * from final
