{#- The OHDSI era persistence window in days, from var `era_persistence_days`
    (default 30); fails at compile time when it is not a number >= 0. -#}
{% macro era_persistence_days() -%}
    {%- set days = var('era_persistence_days', 30) -%}
    {%- if days is not number or days < 0 -%}
        {{ exceptions.raise_compiler_error("var `era_persistence_days` must be a number of days >= 0, got '" ~ days ~ "'") }}
    {%- endif -%}
    {{ return(days) }}
{%- endmacro %}
