{#-
    Volume drop: an omop table holding more than var run_metrics_volume_drop_max_share
    (0.2) fewer rows than the latest recorded build (audit.run_metric, metric
    omop_rows). One row per such table: the table, previous and current rows, the
    drop and the share allowed; the message is logged at the end of the run. Tables that held no row
    before are not compared.
-#}
{{ config(severity='warn', tags=['run_metrics']) }}
{{ run_metric_check_omop_tables() }}

{%- set max_drop = run_metric_var_number('run_metrics_volume_drop_max_share', 0.2, 0, 1) -%}
{%- set tables = {} -%}
{%- for name in run_metric_omop_tables() -%}
    {%- do tables.update({name: ref(name)}) -%}
{%- endfor -%}

with

run_metric as (
    select * from {{ source('audit', 'run_metric') }}
),

current_rows as (
    {{ run_metric_omop_rows_sql(tables) }}
),

previous_rows as (
    {{ run_metric_latest_sql('run_metric', 'omop_rows') }}
),

compared as (
    select
        current_rows.subject as omop_table,
        previous_rows.value as previous_rows,
        current_rows.value as current_rows,
        1 - current_rows.value / previous_rows.value as drop_share,
        {{ max_drop }} as max_drop_share
    from current_rows
    inner join previous_rows
        on current_rows.subject = previous_rows.subject
    where previous_rows.value > 0
),

final as (
    select
        omop_table,
        previous_rows,
        current_rows,
        round(drop_share, 3) as drop_share,
        max_drop_share,
        'volume drop: omop.' || omop_table || ' has ' || current_rows || ' rows, '
        || previous_rows || ' in the previous successful build ('
        || round(100 * drop_share, 1) || '% fewer; var run_metrics_volume_drop_max_share allows '
        || round(100 * max_drop_share, 1) || '%)' as message
    from compared
    where drop_share > max_drop_share
)

select * from final
