{#-
    One hash of several columns, for finding rows with the same content.
    NULL and the empty string hash differently, and so do ('a,b', 'c') and
    ('a', 'b,c'), so two rows share a hash only when every column is equal.
-#}
{% macro ehr2omop_row_hash(columns) -%}
    {%- if columns is string or columns is not iterable or (columns | length) == 0 -%}
        {{ exceptions.raise_compiler_error("ehr2omop_row_hash: argument `columns` must be a non-empty list of column expressions") }}
    {%- endif -%}
    {{ return(adapter.dispatch('ehr2omop_row_hash', 'ehr2omop')(columns)) }}
{%- endmacro %}


{#- Portable body, in the manner of a surrogate key: each value cast to text,
    NULL replaced by a marker, values joined by a separator. Values containing
    the separator could collide in theory; the PostgreSQL body cannot. -#}
{% macro default__ehr2omop_row_hash(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '<<null>>')") -%}
        {%- if not loop.last -%}
            {%- do parts.append("'\x1f'") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}


{#- The text form of a row value quotes and escapes each field and leaves a
    NULL field empty, so it is unambiguous; md5 of it is the hash. -#}
{% macro postgres__ehr2omop_row_hash(columns) -%}
    md5(cast(row({{ columns | join(', ') }}) as text))
{%- endmacro %}
