{#-
    Cast a text expression to a type, or return NULL when the text cannot be
    read as that type. The query never fails on a bad value, so the caller can
    compare the input with the result and record why a value was refused.

    Temporal types only accept ISO 8601 text (YYYY-MM-DD first), so the result
    never depends on the session's DateStyle or on the day the query runs.
    A `timestamp` is returned without time zone, in UTC: text that carries an
    offset (`Z`, `+02:00`, ...) is converted to UTC, text without one is taken
    as already in UTC.
-#}
{% macro ehr2omop_try_cast(expr, type) -%}
    {%- if expr is none or (expr | string | trim) == '' -%}
        {{ exceptions.raise_compiler_error("ehr2omop_try_cast: argument `expr` is empty; pass the SQL expression to cast") }}
    {%- endif -%}
    {%- if type is none or (type | string | trim) == '' -%}
        {{ exceptions.raise_compiler_error("ehr2omop_try_cast: argument `type` is empty; pass a SQL type such as 'date' or 'numeric'") }}
    {%- endif -%}
    {{ return(adapter.dispatch('ehr2omop_try_cast', 'ehr2omop')(expr, type | string | trim | lower)) }}
{%- endmacro %}


{#- Engines whose dbt.safe_cast is a real "try" cast (try_cast, safe_cast) need
    nothing more; on an engine where it is a plain cast, add a body here. -#}
{% macro default__ehr2omop_try_cast(expr, type) -%}
    {{ dbt.safe_cast(expr, type) }}
{%- endmacro %}


{#- PostgreSQL 16+: pg_input_is_valid() tests the text without raising.
    The cheap tests come first: most rows are decided by them. -#}
{% macro postgres__ehr2omop_try_cast(expr, type) -%}
    {%- set iso_date = "'^\\s*[0-9]{4}-[0-9]{2}-[0-9]{2}'" -%}
    {%- set numeric_offset = "'[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?\\s*[+-][0-9]{2}(:?[0-9]{2})?\\s*$'" -%}
    {%- set finite_number = "'^\\s*[-+]?[.0-9]'" -%}
    {%- if type == 'date' -%}
        case
            when {{ expr }} ~ {{ iso_date }} and pg_input_is_valid({{ expr }}, 'date')
                then cast({{ expr }} as date)
        end
    {%- elif type in ('timestamp', 'timestamp without time zone') -%}
        {#- With an offset (Z, +02, -05:00): an instant, shown in UTC.
            Without one: already UTC, read as written. -#}
        case
            when not ({{ expr }} ~ {{ iso_date }} and pg_input_is_valid({{ expr }}, 'timestamptz'))
                then null
            when right(rtrim({{ expr }}), 1) in ('Z', 'z') or {{ expr }} ~ {{ numeric_offset }}
                then cast({{ expr }} as timestamptz) at time zone 'UTC'
            else cast({{ expr }} as timestamp)
        end
    {%- elif type in ('numeric', 'decimal', 'double precision', 'float', 'float8', 'real') -%}
        {#- NaN and Infinity parse, but are not finite numbers: refused. -#}
        case
            when {{ expr }} ~ {{ finite_number }} and pg_input_is_valid({{ expr }}, '{{ type }}')
                then cast({{ expr }} as {{ type }})
        end
    {%- else -%}
        case
            when pg_input_is_valid({{ expr }}, '{{ type }}')
                then cast({{ expr }} as {{ type }})
        end
    {%- endif -%}
{%- endmacro %}
