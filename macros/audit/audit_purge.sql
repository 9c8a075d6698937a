{#-
    Retention of the audit trail from dbt: `dbt run-operation audit_purge` deletes
    the audit rows recorded more than var('audit_retention') ago through
    audit.purge_older_than, which only the owner of the audit schema may call
    (connect with a target whose user owns it; `ehr2omop audit purge` does the same).
-#}
{% macro audit_purge(older_than=none) -%}
    {{ return(adapter.dispatch('audit_purge', 'ehr2omop')(older_than)) }}
{%- endmacro %}


{% macro default__audit_purge(older_than) -%}
    {%- set period = older_than if older_than is not none else var('audit_retention', none) -%}
    {%- if period is not none and (period is not string or not period.strip()) -%}
        {{ exceptions.raise_compiler_error(
            "audit_purge: argument `older_than` (or var `audit_retention`) must be an interval such as "
            ~ "'7 years', got " ~ period
        ) }}
    {%- endif -%}
    {%- set purge_sql -%}
        select audit_table, rows_deleted
        from audit.purge_older_than(
            {%- if period is not none %}cast({{ audit_literal(period) }} as interval){% endif -%}
        )
    {%- endset -%}
    {%- set purged = run_query(purge_sql) -%}
    {%- if execute -%}
        {%- for row in purged.rows -%}
            {{ log('audit.' ~ row[0] ~ ': ' ~ row[1] ~ ' row(s) older than ' ~ (period or '7 years') ~ ' deleted', info=true) }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
