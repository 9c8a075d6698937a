{#-
    A JSON object with one key per column: {"<column>": <value>, ...}.
    `columns` are plain column names; `relation_alias`, when given, qualifies
    each of them (alias.column), e.g. to read them from one side of a join.
-#}
{% macro ehr2omop_json_object(columns, relation_alias=none) -%}
    {%- if columns is string or columns is not iterable or (columns | length) == 0 -%}
        {{ exceptions.raise_compiler_error("ehr2omop_json_object: argument `columns` must be a non-empty list of column names") }}
    {%- endif -%}
    {%- if relation_alias is not none and (relation_alias | string | trim) == '' -%}
        {{ exceptions.raise_compiler_error("ehr2omop_json_object: argument `relation_alias` is empty; omit it or pass a table alias") }}
    {%- endif -%}
    {{ return(adapter.dispatch('ehr2omop_json_object', 'ehr2omop')(columns, relation_alias)) }}
{%- endmacro %}


{% macro default__ehr2omop_json_object(columns, relation_alias) -%}
    {{ exceptions.raise_compiler_error("ehr2omop_json_object: no body for adapter '" ~ adapter.type() ~ "'; add " ~ adapter.type() ~ "__ehr2omop_json_object in macros/cross_db/") }}
{%- endmacro %}


{#- jsonb_build_object takes at most 100 arguments (50 keys), so wide rows are
    built in chunks and merged with ||. -#}
{% macro postgres__ehr2omop_json_object(columns, relation_alias) -%}
    {%- set prefix = (relation_alias ~ '.') if relation_alias is not none else '' -%}
    {%- set chunks = [] -%}
    {%- for chunk in columns | batch(50) -%}
        {%- set pairs = [] -%}
        {%- for column in chunk -%}
            {%- do pairs.append("'" ~ column ~ "', " ~ prefix ~ adapter.quote(column)) -%}
        {%- endfor -%}
        {%- do chunks.append('jsonb_build_object(' ~ pairs | join(', ') ~ ')') -%}
    {%- endfor -%}
    {{ chunks | join(' || ') }}
{%- endmacro %}
