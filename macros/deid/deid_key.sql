{#-
    The de-identification key: where it comes from and how SQL reaches it.

    The key is read from the environment variable EHR2OMOP_DEID_KEY and never written
    into SQL text: the on-run-start hook stores it, as a bound query parameter, in a
    one-row table of the schema `deid_vault` (only the runner role can read it), and the
    rules read it from there with a scalar subquery. So compiled SQL, the manifest, the
    docs site and dbt's logs never hold it. The on-run-end hook empties the table again,
    except in the demo targets, whose key is not a secret.

    Demo targets (var deid_demo_targets) run without the variable: they keep the key the
    demo stored before (the CLI passes its generated .ehr2omop/demo-deid.key), or the
    database draws a random one. Every other target fails at once without it.
-#}

{% macro deid_vault_schema() -%}
    {{- return(var('deid_vault_schema', 'deid_vault')) -}}
{%- endmacro %}


{#- SQL expression of the key: the literal test key inside unit tests, else the vault's. -#}
{% macro deid_key() -%}
    {%- set test_key = var('deid_unit_test_key', none) -%}
    {%- if test_key is not none -%}
        {{- return("'" ~ test_key ~ "'") -}}
    {%- endif -%}
    {{- return('(select deid_key from ' ~ deid_vault_schema() ~ '.run_key)') -}}
{%- endmacro %}


{% macro deid_is_demo_target() -%}
    {{- return(target.name in var('deid_demo_targets', ['demo'])) -}}
{%- endmacro %}


{#- on-run-start: check and store the key. Fails in one line when it is missing. -#}
{% macro deid_install_key() -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set env_name = 'EHR2OMOP_DEID_KEY' -%}
    {%- set key = env_var(env_name, '') -%}
    {%- set min_length = var('deid_key_min_length', 32) -%}
    {%- if key == '' and not deid_is_demo_target() -%}
        {{ exceptions.raise_compiler_error(
            env_name ~ " is not set: target '" ~ target.name ~ "' needs the de-identification key; export "
            ~ env_name ~ " (a secret of at least " ~ min_length ~ " characters, e.g. `openssl rand -hex 32`) and rerun"
        ) }}
    {%- endif -%}
    {%- if key != '' and key | length < min_length -%}
        {{ exceptions.raise_compiler_error(
            env_name ~ " is too short (" ~ key | length ~ " characters): use a secret of at least "
            ~ min_length ~ " characters, e.g. `openssl rand -hex 32`"
        ) }}
    {%- endif -%}
    {%- set vault = deid_vault_schema() -%}
    {%- call statement('deid_vault_ddl') -%}
        create schema if not exists {{ vault }};
        revoke all on schema {{ vault }} from public;
        create table if not exists {{ vault }}.run_key (
            deid_key text not null,
            stored_at timestamp with time zone not null default now()
        );
        revoke all on {{ vault }}.run_key from public;
    {%- endcall -%}
    {%- if key != '' -%}
        {%- do adapter.add_query('truncate ' ~ vault ~ '.run_key') -%}
        {#- bound parameter: the key is in no SQL text and no log line -#}
        {%- do adapter.add_query('insert into ' ~ vault ~ '.run_key (deid_key) values (%s)', bindings=[key]) -%}
    {%- else -%}
        {%- do adapter.add_query(
            'insert into ' ~ vault ~ '.run_key (deid_key) '
            ~ "select encode(gen_random_bytes(32), 'hex') "
            ~ 'where not exists (select 1 from ' ~ vault ~ '.run_key)'
        ) -%}
    {%- endif -%}
    {%- do adapter.commit() -%}
    {{- return('') -}}
{%- endmacro %}


{#- on-run-end: a real key does not stay in the database after the run. -#}
{% macro deid_forget_key() -%}
    {%- if execute and not deid_is_demo_target() -%}
        {%- do adapter.add_query('truncate ' ~ deid_vault_schema() ~ '.run_key') -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
    {{- return('') -}}
{%- endmacro %}
