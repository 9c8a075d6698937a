{#-
    Slow model: a model whose latest recorded run (audit.run_metric, metric
    model_seconds) took more than var run_metrics_runtime_max_factor (3) times its
    median over the runs before (the latest run_metrics_runtime_history_runs, 10,
    and at least run_metrics_runtime_min_history_runs, 3, of them), and at least
    run_metrics_runtime_min_seconds (1). Runs before this build's hook: the build
    being checked is not recorded yet, so its last recorded run is compared with
    the earlier ones. One row per such model; the message is logged at the end of the run.
-#}
{{ config(severity='warn', tags=['run_metrics']) }}

{%- set max_factor = run_metric_var_number('run_metrics_runtime_max_factor', 3, 1) -%}
{%- set history_runs = run_metric_var_number('run_metrics_runtime_history_runs', 10, 1) -%}
{%- set min_history_runs = run_metric_var_number('run_metrics_runtime_min_history_runs', 3, 1) -%}
{%- set min_seconds = run_metric_var_number('run_metrics_runtime_min_seconds', 1) -%}

with

run_metric as (
    select * from {{ source('audit', 'run_metric') }}
),

model_runs as (
    select
        subject as model_name,
        value as seconds,
        row_number() over (
            partition by subject
            order by recorded_at desc, run_metric_id desc
        ) as recency
    from run_metric
    where metric = 'model_seconds'
),

history as (
    select
        model_name,
        percentile_cont(0.5) within group (order by seconds) as median_seconds,
        count(*) as history_runs
    from model_runs
    where recency between 2 and {{ history_runs + 1 }}
    group by model_name
    having count(*) >= {{ min_history_runs }}
),

final as (
    select
        model_runs.model_name,
        round(cast(history.median_seconds as numeric), 3) as median_seconds,
        history.history_runs,
        model_runs.seconds as last_seconds,
        {{ max_factor }} as max_factor,
        'slow model: ' || model_runs.model_name || ' took ' || model_runs.seconds
        || 's in the last recorded run, '
        || round(cast(model_runs.seconds / history.median_seconds as numeric), 1) || ' times its median of '
        || round(cast(history.median_seconds as numeric), 3) || 's over the ' || history.history_runs
        || ' runs before (var run_metrics_runtime_max_factor allows ' || {{ max_factor }} || ')' as message
    from model_runs
    inner join history
        on model_runs.model_name = history.model_name
    where
        model_runs.recency = 1
        and model_runs.seconds >= {{ min_seconds }}
        and model_runs.seconds > {{ max_factor }} * history.median_seconds
)

select * from final
