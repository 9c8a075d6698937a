{#-
    Run metrics: what one build measures, as (metric, subject, value) rows. The
    on-run-end hook audit_record_metrics appends them to audit.run_metric; the
    run-metric tests (tests/dbt/run_metrics/) compute the same rows from the
    built tables and compare them with the latest recorded ones. One definition
    for both, here.
-#}

{#- The omop models materialized as tables (the vocabulary views are not built from the extract). -#}
{% macro run_metric_omop_tables() -%}
    {{ return([
        'care_site', 'cdm_source', 'condition_era', 'condition_occurrence', 'cost', 'death',
        'device_exposure', 'dose_era', 'drug_era', 'drug_exposure', 'episode', 'episode_event',
        'fact_relationship', 'location', 'measurement', 'metadata', 'note', 'note_nlp', 'observation',
        'observation_period', 'payer_plan_period', 'person', 'procedure_occurrence', 'provider',
        'source_to_concept_map', 'specimen', 'visit_detail', 'visit_occurrence'
    ]) }}
{%- endmacro %}


{#-
    At execution, fails naming the tables when run_metric_omop_tables() and the
    omop table models of the project differ (a table added or dropped in models/omop).
-#}
{% macro run_metric_check_omop_tables() -%}
    {%- if execute -%}
        {%- set built = [] -%}
        {%- for node in graph.nodes.values() -%}
            {#- incremental: the person-keyed tables of a batch build (macros/batch/) -#}
            {%- if node.resource_type == 'model' and node.fqn[1] == 'omop'
                and node.config.materialized in ['table', 'incremental'] -%}
                {%- do built.append(node.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set listed = run_metric_omop_tables() -%}
        {%- set missing = built | reject('in', listed) | list -%}
        {%- set extra = listed | reject('in', built) | list -%}
        {%- if missing or extra -%}
            {{ exceptions.raise_compiler_error(
                'run_metric_omop_tables() (macros/audit/run_metrics.sql) is out of step with models/omop: '
                ~ 'add ' ~ (missing | join(', ') or 'nothing') ~ ', remove ' ~ (extra | join(', ') or 'nothing')
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- metric omop_rows: one row per table; `tables` maps a table name to its relation. -#}
{% macro run_metric_omop_rows_sql(tables) -%}
    {%- for name, relation in tables.items() %}
    select
        'omop_rows' as metric,
        '{{ name }}' as subject,
        cast(count(*) as numeric) as value
    from {{ relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}


{#-
    The mapping coverage metrics per domain, from quality_mapping_coverage
    (`relation`): unmapped_share, unmapped_rows, coded_rows, distinct_codes,
    unmapped_codes, and unmapped_code_rows per '<domain>/<code>' of its
    top_unmapped_codes list ('code (rows), ...').
-#}
{% macro run_metric_mapping_sql(relation) -%}
    {%- for metric, column in [
        ('unmapped_share', 'unmapped_share'),
        ('unmapped_rows', 'unmapped_rows'),
        ('coded_rows', 'total_rows'),
        ('distinct_codes', 'distinct_codes'),
        ('unmapped_codes', 'unmapped_codes'),
    ] %}
    select
        '{{ metric }}' as metric,
        domain as subject,
        cast({{ column }} as numeric) as value
    from {{ relation }}
    union all
    {%- endfor %}
    select
        'unmapped_code_rows' as metric,
        coverage.domain || '/' || code_match[1] as subject,
        cast(code_match[2] as numeric) as value
    from {{ relation }} as coverage
    cross join lateral
        regexp_matches(coverage.top_unmapped_codes, '(.+?) \((\d+)\)(, |$)', 'g') as code_match
{%- endmacro %}


{#- metric staging_rejects: rejected raw rows per reason, from stg_synthea__rejects (`relation`). -#}
{% macro run_metric_rejects_sql(relation) -%}
    select
        'staging_rejects' as metric,
        reject_reason as subject,
        cast(count(*) as numeric) as value
    from {{ relation }}
    group by reject_reason
{%- endmacro %}


{#- The number var `name` (default `default`), failing naming the var unless minimum <= value (<= maximum). -#}
{% macro run_metric_var_number(name, default, minimum=0, maximum=none) -%}
    {%- set value = var(name, default) -%}
    {%- if value is not number or value is sameas true or value is sameas false
        or value < minimum or (maximum is not none and value > maximum) -%}
        {{ exceptions.raise_compiler_error(
            'var ' ~ name ~ ' must be a number from ' ~ minimum ~ (' to ' ~ maximum if maximum is not none else ' up')
            ~ ', got ' ~ value
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{#- The latest recorded value of `metric` per subject, from `run_metric` (a CTE or relation). -#}
{% macro run_metric_latest_sql(run_metric, metric) -%}
    select
        subject,
        value,
        invocation_id
    from (
        select
            subject,
            value,
            invocation_id,
            row_number() over (
                partition by subject
                order by recorded_at desc, run_metric_id desc
            ) as recency
        from {{ run_metric }}
        where metric = '{{ metric }}'
    ) as ranked
    where recency = 1
{%- endmacro %}


{#-
    Logs the findings of the run-metric and row-accounting tests that warned or
    failed in this run: each returned row's `message` column (a run metric's
    prefixed `run metrics: `), by running the test's compiled query again, so
    that the run's output names the table, entity, domain or model and the values. Called by audit_record_metrics before it
    records this run's metrics (the findings compare with the previous ones).
-#}
{% macro log_test_findings(results) -%}
    {%- set prefixes = {'run_metrics': 'run metrics: ', 'row_accounting': ''} -%}
    {%- for result in results
        if result.node.resource_type == 'test' and (result.status | string) in ['warn', 'fail']
        and result.node.compiled_code -%}
        {%- set tags = result.node.tags | select('in', prefixes) | list -%}
        {%- if tags -%}
            {%- set findings = run_query(
                'select message from (' ~ result.node.compiled_code ~ ') as findings order by message'
            ) -%}
            {%- for row in findings.rows -%}
                {%- do log(prefixes[tags[0]] ~ row['message'], info=true) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
