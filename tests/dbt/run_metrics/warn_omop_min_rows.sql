{#-
    Minimum volume: an omop table holding fewer rows than var run_metrics_min_rows
    gives it (a map of table name to rows, e.g. {person: 1}). One row per such
    table: the table, the minimum and the rows it holds; the message is logged at the end of the run.
-#}
{{ config(severity='warn', tags=['run_metrics']) }}
{{ run_metric_check_omop_tables() }}

{%- set minimums = var('run_metrics_min_rows', {'person': 1}) -%}
{%- if minimums is not mapping -%}
    {{ exceptions.raise_compiler_error(
        'var run_metrics_min_rows must map omop table names to row counts, e.g. {person: 1}, got ' ~ minimums
    ) }}
{%- endif -%}
{%- for name, minimum in minimums.items() -%}
    {%- if name not in run_metric_omop_tables() or minimum is not number or minimum < 0 -%}
        {{ exceptions.raise_compiler_error(
            'var run_metrics_min_rows: ' ~ name ~ ': ' ~ minimum
            ~ ' is not an omop table with a row count of 0 or more'
        ) }}
    {%- endif -%}
{%- endfor -%}
{%- set tables = {} -%}
{%- for name in run_metric_omop_tables() -%}
    {%- do tables.update({name: ref(name)}) -%}
{%- endfor -%}

with

current_rows as (
    {{ run_metric_omop_rows_sql(tables) }}
),

minimums as (
    select
        omop_table,
        min_rows
    from (
        values
        {%- for name, minimum in minimums.items() %}
            ('{{ name }}', {{ minimum }}),
        {%- endfor %}
        ('', 0)
    ) as minimum_rows (omop_table, min_rows)
    where omop_table != ''
),

final as (
    select
        minimums.omop_table,
        minimums.min_rows,
        current_rows.value as current_rows,
        'minimum volume: omop.' || minimums.omop_table || ' has ' || current_rows.value
        || ' rows, var run_metrics_min_rows expects at least ' || minimums.min_rows as message
    from minimums
    inner join current_rows
        on minimums.omop_table = current_rows.subject
    where current_rows.value < minimums.min_rows
)

select * from final
