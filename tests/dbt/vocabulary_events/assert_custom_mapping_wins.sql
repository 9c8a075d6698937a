{#-
    A code with a valid row in a custom source_to_concept_map seed is mapped by
    that row alone, whatever the vocabulary's `Maps to` says: its rows in
    source_to_standard are all 'custom' rows with the custom targets, and
    every OMOP row written for its events carries one of them. One failing
    row per code and target that breaks it.
-#}
{%- set event_tables = {
    'condition_occurrence': 'condition',
    'drug_exposure': 'drug',
    'procedure_occurrence': 'procedure',
    'device_exposure': 'device',
    'measurement': 'measurement',
    'observation': 'observation',
} -%}

with

demo_source_to_concept_map as (
    select * from {{ ref('demo_source_to_concept_map') }}
),

custom_source_to_concept_map as (
    select * from {{ ref('custom_source_to_concept_map') }}
),

mapped_clinical_events as (
    select * from {{ ref('mapped_clinical_events') }}
),

source_to_standard as (
    select * from {{ ref('source_to_standard') }}
),
{% for table_name in event_tables %}
    {{ table_name }} as (
        select * from {{ ref(table_name) }}
    ),

    {{ table_name }}_ids as (
        select * from {{ ref(table_name ~ '_ids') }}
    ),
{% endfor %}
site_maps as (
    select
        source_code,
        source_vocabulary_id,
        target_concept_id,
        valid_start_date,
        valid_end_date,
        invalid_reason
    from demo_source_to_concept_map
    union all
    select
        source_code,
        source_vocabulary_id,
        target_concept_id,
        valid_start_date,
        valid_end_date,
        invalid_reason
    from custom_source_to_concept_map
),

custom_rows as (
    -- the rows of the custom maps valid today
    select distinct
        source_code,
        source_vocabulary_id,
        target_concept_id
    from site_maps
    where invalid_reason is null
        and current_date between valid_start_date and valid_end_date
),

custom_codes as (
    select distinct
        source_code,
        source_vocabulary_id
    from custom_rows
),

omop_rows as (
    {%- for table_name, prefix in event_tables.items() %}
        select
            '{{ table_name }}' as table_name,
            split_part({{ table_name }}_ids.source_key, '|', 1) as event_key,
            {{ table_name }}.{{ prefix }}_concept_id as concept_id
        from {{ table_name }}
        inner join {{ table_name }}_ids
            on {{ table_name }}.{{ table_name }}_id = {{ table_name }}_ids.id
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

resolution_breaks as (
    -- a row of source_to_standard for a custom code that is not its custom target
    select
        source_to_standard.source_code,
        source_to_standard.source_vocabulary_id,
        'source_to_standard' as found_in,
        source_to_standard.mapping_kind,
        source_to_standard.target_concept_id as concept_id,
        1 as row_count
    from source_to_standard
    inner join custom_codes
        on source_to_standard.source_code = custom_codes.source_code
            and source_to_standard.source_vocabulary_id = custom_codes.source_vocabulary_id
    left outer join custom_rows
        on source_to_standard.source_code = custom_rows.source_code
            and source_to_standard.source_vocabulary_id = custom_rows.source_vocabulary_id
            and source_to_standard.target_concept_id = custom_rows.target_concept_id
    where source_to_standard.mapping_kind != 'custom'
        or custom_rows.target_concept_id is null
),

event_breaks as (
    -- an OMOP row written for an event of a custom code with another concept
    select
        mapped_clinical_events.source_code,
        mapped_clinical_events.source_vocabulary_id,
        omop_rows.table_name as found_in,
        cast(null as {{ dbt.type_string() }}) as mapping_kind,
        omop_rows.concept_id,
        count(*) as row_count
    from mapped_clinical_events
    inner join custom_codes
        on mapped_clinical_events.source_code = custom_codes.source_code
            and mapped_clinical_events.source_vocabulary_id = custom_codes.source_vocabulary_id
    inner join omop_rows
        on mapped_clinical_events.event_key = omop_rows.event_key
    left outer join custom_rows
        on mapped_clinical_events.source_code = custom_rows.source_code
            and mapped_clinical_events.source_vocabulary_id = custom_rows.source_vocabulary_id
            and omop_rows.concept_id = custom_rows.target_concept_id
    where custom_rows.target_concept_id is null
    group by
        mapped_clinical_events.source_code,
        mapped_clinical_events.source_vocabulary_id,
        omop_rows.table_name,
        omop_rows.concept_id
),

final as (
    select * from resolution_breaks
    union all
    select * from event_breaks
)

select * from final
