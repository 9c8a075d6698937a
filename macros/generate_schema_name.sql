{#-
    Use a model's custom schema name as is (`staging`, `mapped`, `omop`), so
    every environment has the same, predictable schema names; environments are
    separated by database, not by schema prefix.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
