{#-
    The on-run-end hook of the audit trail: one audit.dbt_invocation row for this
    invocation and one audit.dbt_node_result row per result, in one statement
    batch (one transaction). The audit schema itself is created by the Python
    toolkit (ehr2omop.audit): this hook only inserts.
-#}
{% macro audit_record_run(results, chunk_size=500) -%}
    {{ return(adapter.dispatch('audit_record_run', 'ehr2omop')(results, chunk_size)) }}
{%- endmacro %}


{% macro default__audit_record_run(results, chunk_size) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- if results is none or results is string or results is mapping -%}
        {{ exceptions.raise_compiler_error(
            'audit_record_run: argument `results` must be the list of run results dbt gives an '
            ~ 'on-run-end hook ("{{ audit_record_run(results) }}"), got ' ~ results
        ) }}
    {%- endif -%}
    {%- if chunk_size is not number or chunk_size < 1 -%}
        {{ exceptions.raise_compiler_error(
            'audit_record_run: argument `chunk_size` must be a positive integer, got ' ~ chunk_size
        ) }}
    {%- endif -%}
    {%- set invocation_table = adapter.get_relation(
        database=target.database, schema='audit', identifier='dbt_invocation'
    ) -%}
    {%- if invocation_table is none -%}
        {{ exceptions.raise_compiler_error(
            'audit_record_run: table audit.dbt_invocation not found in database ' ~ target.database
            ~ '; the audit schema is created by `ehr2omop db start` (embedded server) or by '
            ~ '`ehr2omop audit init` as the database admin: create it, then run dbt again'
        ) }}
    {%- endif -%}
    {%- set vocabulary_load = adapter.get_relation(
        database=target.database, schema=var('vocab_schema', 'vocab'), identifier='vocabulary_load'
    ) -%}

    {%- set failed_statuses = ['error', 'fail', 'runtime error'] -%}
    {%- set errors = [] -%}
    {%- for result in results if (result.status | string) in failed_statuses -%}
        {%- do errors.append(result.node.unique_id) -%}
    {%- endfor -%}

    {#- the arguments, without the values of --vars (a secret key may be passed that way) -#}
    {%- set args = {} -%}
    {%- for key, value in invocation_args_dict.items() if key not in ['vars', 'invocation_command'] -%}
        {%- do args.update({key: value}) -%}
    {%- endfor -%}
    {%- set given_vars = invocation_args_dict.get('vars') -%}
    {%- do args.update({'vars': (given_vars.keys() | list | sort) if given_vars is mapping else []}) -%}

    {%- set selection = [] -%}
    {%- for key in ['select', 'exclude', 'selector', 'resource_types', 'exclude_resource_types'] -%}
        {%- set value = invocation_args_dict.get(key) -%}
        {%- if value -%}
            {%- do selection.append(
                '--' ~ (key | replace('_', '-')) ~ ' ' ~ (value if value is string else value | join(' '))
            ) -%}
        {%- endif -%}
    {%- endfor %}

insert into audit.dbt_invocation (
    invocation_id,
    command,
    selection,
    invocation_args,
    target_name,
    os_user,
    client_host,
    dbt_version,
    project_name,
    project_version,
    git_commit,
    vocabulary_version,
    started_at,
    ended_at,
    status,
    node_count,
    error_count
)
values (
    {{ audit_literal(invocation_id) }},
    {{ audit_literal(invocation_args_dict.get('which')) }},
    {{ audit_literal(selection | join(' ') or none) }},
    cast({{ audit_literal(tojson(args, sort_keys=true)) }} as jsonb),
    {{ audit_literal(target.name) }},
    {{ audit_literal(env_var('EHR2OMOP_OS_USER', env_var('USER', env_var('LOGNAME', ''))) or none) }},
    {{ audit_literal(env_var('EHR2OMOP_CLIENT_HOST', env_var('HOSTNAME', '')) or none) }},
    {{ audit_literal(dbt_version) }},
    {{ audit_literal(project_name) }},
    {{ audit_literal(var('ehr2omop_version', none)) }},
    {{ audit_literal(env_var('EHR2OMOP_GIT_COMMIT', '') or none) }},
    {% if vocabulary_load is none -%}
    null,
    {%- else -%}
    (
        select vocabulary_load.vocabulary_version
        from {{ vocabulary_load }} as vocabulary_load
        order by vocabulary_load.loaded_at desc
        limit 1
    ),
    {%- endif %}
    cast({{ audit_literal(run_started_at.isoformat()) }} as timestamp with time zone),
    {{ dbt.current_timestamp() }},
    {{ audit_literal('failed' if errors else 'success') }},
    {{ results | length }},
    {{ errors | length }}
);
{%- for chunk in results | batch(chunk_size) %}

insert into audit.dbt_node_result (
    invocation_id,
    unique_id,
    resource_type,
    status,
    rows_affected,
    failures,
    execution_seconds,
    message
)
values
    {%- for result in chunk %}
    (
        {{ audit_literal(invocation_id) }},
        {{ audit_literal(result.node.unique_id) }},
        {{ audit_literal(result.node.resource_type) }},
        {{ audit_literal(result.status) }},
        {{ audit_number((result.adapter_response or {}).get('rows_affected')) }},
        {{ audit_number(result.failures) }},
        {{ audit_number(result.execution_time) }},
        {{ audit_literal(result.message) }}
    ){{ ',' if not loop.last else ';' }}
    {%- endfor %}
{%- endfor %}
{%- endmacro %}


{#- A SQL string literal of `value` (null for none): an escape string with backslashes and quotes doubled. -#}
{% macro audit_literal(value) -%}
    {%- if value is none -%}
        null
    {%- else -%}
        E'{{ value | string | replace("\\", "\\\\") | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}


{#- A SQL number literal of `value` (null for none or anything that is not a number). -#}
{% macro audit_number(value) -%}
    {%- if value is number -%}
        {{ value }}
    {%- else -%}
        null
    {%- endif -%}
{%- endmacro %}
