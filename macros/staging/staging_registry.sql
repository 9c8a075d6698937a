{#-
    Small helpers over an entity registry entry (see synthea_entity): the
    reject reasons, the raw columns an entity reads, its staged column names.
-#}

{#- Every reject reason, in priority order: a row that breaks several rules
    is rejected for the first of them. -#}
{% macro staging_reject_reasons() -%}
    {{ return([
        'missing_required_value',
        'invalid_date',
        'invalid_timestamp',
        'invalid_number',
        'duplicate_row',
        'conflicting_id',
        'superseded',
        'orphan_patient',
        'orphan_encounter',
        'encounter_patient_mismatch',
        'orphan_claim',
        'orphan_organization',
    ]) }}
{%- endmacro %}


{#- The metadata columns every raw table carries after its data columns. -#}
{% macro staging_raw_metadata_columns() -%}
    {{ return(['_batch_id', '_file_name', '_line_number', '_loaded_at']) }}
{%- endmacro %}


{#- The reject reason for a value that does not parse as `type`. -#}
{% macro staging_invalid_reason(type, column_name='?') -%}
    {%- set reasons = {
        'date': 'invalid_date',
        'timestamp': 'invalid_timestamp',
        'numeric': 'invalid_number',
        'double precision': 'invalid_number',
        'integer': 'invalid_number',
    } -%}
    {%- if type not in reasons -%}
        {{ exceptions.raise_compiler_error("staging_invalid_reason: column '" ~ column_name ~ "' has type '" ~ type ~ "'; expected text or one of " ~ reasons.keys() | list | join(', ')) }}
    {%- endif -%}
    {{ return(reasons[type]) }}
{%- endmacro %}


{#- The raw data columns an entity reads, each once, in first-use order. -#}
{% macro staging_raw_columns(entity) -%}
    {%- set names = [] -%}
    {%- for column in entity.columns -%}
        {%- set sources = [column.source] if column.source is string else column.source -%}
        {%- for source_column in sources -%}
            {%- if source_column not in names -%}
                {%- do names.append(source_column) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{#- The staged column names of an entity, in output order. -#}
{% macro staging_column_names(entity) -%}
    {{ return(entity.columns | map(attribute='name') | list) }}
{%- endmacro %}


{#- The staged columns as a select list, one per line, for a staging model.
    `indent` is the number of spaces before each line after the first. -#}
{% macro staging_select_list(entity, indent=8) -%}
    {{ return(staging_column_names(entity) | join(',\n' ~ ' ' * indent)) }}
{%- endmacro %}
