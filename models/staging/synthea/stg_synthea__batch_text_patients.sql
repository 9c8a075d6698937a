{#-
    The patients a batch build recomputes although none of their records changed: those who
    gave a free text whose published status changed (kept before and not now, or the reverse;
    stg_synthea__shared_texts against the previous build's staging.shared_texts_before). Their
    staging rows stay; their de-identified rows are rebuilt. Empty in a full build, which
    compares the texts with themselves.
-#}
{{ config(materialized='table') }}

{%- set shared = deid_shared_text_columns() %}

with

shared_texts as (
    select * from {{ ref('stg_synthea__shared_texts') }}
),

shared_texts_before as (
    {%- if batch_mode() %}
        select * from {{ this.schema }}.shared_texts_before
    {%- else %}
        select * from shared_texts
    {%- endif %}
),

flipped as (
    -- in one of the two, not in both
    select
        coalesce(now_texts.model_name, before_texts.model_name) as model_name,
        coalesce(now_texts.column_name, before_texts.column_name) as column_name,
        coalesce(now_texts.code, before_texts.code) as code,
        coalesce(now_texts.text_value, before_texts.text_value) as text_value
    from shared_texts as now_texts
    full outer join shared_texts_before as before_texts
        on
            now_texts.model_name = before_texts.model_name
            and now_texts.column_name = before_texts.column_name
            and now_texts.code is not distinct from before_texts.code
            and now_texts.text_value = before_texts.text_value
    where now_texts.model_name is null or before_texts.model_name is null
),

final as (
    {%- for item in shared %}
        {%- set person = var('deid_person_column', 'patient_id') %}
        select distinct staged.{{ person }}{{ ' as patient_id' if person != 'patient_id' }}
        from {{ ref(item.model) }} as staged
        inner join flipped
            on
                flipped.model_name = '{{ item.model }}'
                and flipped.column_name = '{{ item.column }}'
                and cast(staged.{{ adapter.quote(item.code) }} as {{ dbt.type_string() }}) = flipped.code
                and cast(staged.{{ adapter.quote(item.column) }} as {{ dbt.type_string() }})
                = flipped.text_value
        {%- if item.keep_when %}
            -- a value the rule publishes anyway changes nothing
            where not coalesce({{ item.keep_when | replace('{row}', 'staged') }}, false)
        {%- endif %}
        {%- if not loop.last %}
            union
        {%- endif %}
    {%- endfor %}
    {%- if not shared %}
        select cast(null as {{ dbt.type_string() }}) as patient_id
        from flipped
    {%- endif %}
)

select * from final
