{#-
    dbt's `grants` config grants on relations only: a role granted SELECT on
    omop.person still cannot reach it without USAGE on schema omop. Run as an
    on-run-end hook, this grants USAGE on every existing schema that holds a
    relation with a `grants` config, to the roles named there, so schema usage
    always follows the grants config and is written nowhere else.
-#}
{% macro grant_schema_usage() -%}
    {{ return(adapter.dispatch('grant_schema_usage', 'ehr2omop')()) }}
{%- endmacro %}


{% macro default__grant_schema_usage() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set grantees_by_schema = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type in ('model', 'seed', 'snapshot') -%}
        {%- for grantees in (node.config.get('grants') or {}).values() -%}
            {%- set schema_grantees = grantees_by_schema.setdefault((node.database, node.schema), []) -%}
            {%- for grantee in ([grantees] if grantees is string else grantees) if grantee not in schema_grantees -%}
                {%- do schema_grantees.append(grantee) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for database, schema in grantees_by_schema | sort -%}
        {%- set grantees = grantees_by_schema[(database, schema)] -%}
        {%- if grantees and adapter.check_schema_exists(database, schema) -%}
            {%- do statements.append(
                'grant usage on schema ' ~ adapter.quote(schema) ~ ' to '
                ~ (grantees | sort | join(', '))
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
{%- endmacro %}
