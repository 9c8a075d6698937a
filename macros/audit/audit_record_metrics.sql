{#-
    The run metrics hook (on-run-end, right after audit_record_run, whose
    audit.dbt_invocation row its rows reference): for a `build` or `run` in
    which no node errored or failed, one INSERT of audit.run_metric rows for the
    nodes that ran: omop_rows per omop table built, the mapping coverage
    metrics when quality_mapping_coverage was built, staging_rejects per reason
    when stg_synthea__rejects was built, model_seconds per model. First it logs
    the findings of the run-metric tests that warned (log_test_findings),
    in every command, while they still compare with the previous build.
-#}
{% macro audit_record_metrics(results) -%}
    {{ return(adapter.dispatch('audit_record_metrics', 'ehr2omop')(results)) }}
{%- endmacro %}


{% macro default__audit_record_metrics(results) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- if results is none or results is string or results is mapping -%}
        {{ exceptions.raise_compiler_error(
            'audit_record_metrics: argument `results` must be the list of run results dbt gives an '
            ~ 'on-run-end hook ("{{ audit_record_metrics(results) }}"), got ' ~ results
        ) }}
    {%- endif -%}
    {%- do log_test_findings(results) -%}
    {%- if invocation_args_dict.get('which') not in ['build', 'run'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- for result in results if (result.status | string) in ['error', 'fail', 'runtime error'] -%}
        {%- do log('run metrics not recorded: ' ~ result.node.unique_id ~ ' ' ~ result.status, info=true) -%}
        {{ return('') }}
    {%- endfor -%}
    {%- set metric_table = adapter.get_relation(
        database=target.database, schema='audit', identifier='run_metric'
    ) -%}
    {%- if metric_table is none -%}
        {{ exceptions.raise_compiler_error(
            'audit_record_metrics: table audit.run_metric not found in database ' ~ target.database
            ~ '; the audit schema is older than this project: bring it up to date with `ehr2omop db start` '
            ~ '(embedded server) or `ehr2omop audit init` as the database admin, then run dbt again'
        ) }}
    {%- endif -%}

    {%- set omop_tables = {} -%}
    {%- set parts = [] -%}
    {%- set seconds = [] -%}
    {%- for result in results
        if result.node.resource_type == 'model' and (result.status | string) == 'success' -%}
        {%- set node = result.node -%}
        {%- do seconds.append((node.name, result.execution_time)) -%}
        {%- if node.fqn[1] == 'omop' and node.config.materialized == 'table' -%}
            {%- do omop_tables.update({node.name: node.relation_name}) -%}
        {%- elif node.name == 'quality_mapping_coverage' -%}
            {%- do parts.append(run_metric_mapping_sql(node.relation_name)) -%}
        {%- elif node.name == 'stg_synthea__rejects' -%}
            {%- do parts.append(run_metric_rejects_sql(node.relation_name)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if omop_tables -%}
        {%- do parts.append(run_metric_omop_rows_sql(omop_tables)) -%}
    {%- endif -%}
    {%- if seconds -%}
        {%- set values = [] -%}
        {%- for name, took in seconds -%}
            {%- do values.append(
                "('model_seconds', " ~ audit_literal(name) ~ ", cast(" ~ audit_number(took) ~ " as numeric))"
            ) -%}
        {%- endfor -%}
        {%- do parts.append(
            'select metric, subject, value from (values ' ~ values | join(', ')
            ~ ') as model_seconds (metric, subject, value) where value is not null'
        ) -%}
    {%- endif -%}
    {%- if not parts -%}
        {{ return('') }}
    {%- endif %}

insert into audit.run_metric (invocation_id, metric, subject, value)
select
    {{ audit_literal(invocation_id) }},
    metrics.metric,
    metrics.subject,
    metrics.value
from (
    {%- for part in parts %}
    {{ part }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
) as metrics;
{%- endmacro %}
