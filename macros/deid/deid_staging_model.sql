{#-
    Body of a de-identification boundary model (models/mapped/deid/): the staging
    model's rows with the same columns, each PHI-tagged column passed through its rule.
    The rule of a column comes from its YAML meta: `deid_rule` when given, else the
    default of its `phi` kind (deid_default_rules). Untagged columns pass unchanged;
    raw-lineage columns (_file_name, _line_number) are left out. The columns and their
    types are the staging model's YAML (name, data_type) as copied into deid_column_spec
    by scripts/ehr2omop/deidgen.py, not the database's: a column nobody documented does
    not pass, and dbt unit tests (where dbt's graph is empty) can run the boundary.

    Rules:
      pseudonym    keyed pseudonym (deid_pseudonym) in id space meta.id_space, else the
                   column name without _id; the person column takes the person key
      shift        the person's date shift (date or timestamp kept)
      zip          deid_zip: three digits / '000' (five digits in limited_dataset)
      birth_date   deid_birth_date (shift, 90+ aggregated), from the person keys
      shared_text  kept only when at least var deid_free_text_min_persons persons have
                   the same text for the same meta.deid_code_column, or when the SQL
                   condition meta.deid_keep_when holds; else NULL
      drop         NULL of the column's type

    Every row is joined to its person's keys (var deid_person_keys_model). In
    safe_harbor, rows of a person in the 90+ category dated before the aggregated
    birth date are left out (their dates would reveal the age); the row-accounting
    test counts them as the documented filter `age_over_89_before_birth`.
-#}
{% macro deid_staging_model(staging_model) -%}
    {%- if staging_model is none or staging_model | trim == '' -%}
        {{ exceptions.raise_compiler_error("deid_staging_model: staging_model is required") }}
    {%- endif -%}
    {{- return(adapter.dispatch('deid_staging_model', 'ehr2omop')(staging_model)) -}}
{%- endmacro %}


{% macro deid_default_rules() -%}
    {{- return({
        'mrn': 'pseudonym',
        'identifier': 'pseudonym',
        'date': 'shift',
        'zip': 'zip',
        'name': 'drop',
        'address': 'drop',
        'geo': 'drop',
        'phone': 'drop',
        'email': 'drop',
        'ssn': 'drop',
        'license': 'drop',
        'passport': 'drop',
        'account': 'drop',
        'device_id': 'drop',
        'url': 'drop',
        'ip': 'drop',
        'free_text': 'drop',
    }) -}}
{%- endmacro %}


{#- The PHI meta of a model's documented columns: {column: meta} for tagged columns only. -#}
{% macro deid_tagged_columns(node) -%}
    {%- set tagged = {} -%}
    {%- for name, column in node.columns.items() -%}
        {%- set meta = {} -%}
        {%- do meta.update(column.get('meta') or {}) -%}
        {%- do meta.update((column.get('config') or {}).get('meta') or {}) -%}
        {%- if meta.get('phi') -%}
            {%- do tagged.update({name: meta}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(tagged) -}}
{%- endmacro %}


{% macro default__deid_staging_model(staging_model) -%}
    {%- set source_relation = ref(staging_model) -%}
    {%- set keys_model = var('deid_person_keys_model', 'stg_synthea__patient_keys') -%}
    {%- set keys_relation = ref(keys_model) -%}
    {%- set person_column = var('deid_person_column', 'patient_id') -%}
    {#- read by deid_zip at run time; referenced here so dbt sees the dependency at parse time -#}
    {%- do ref('deid_restricted_zip3') -%}
    {%- if not execute -%}
        {{- return('select 1 as parsing') -}}
    {%- endif -%}

    {%- set spec = deid_column_spec() -%}
    {%- if staging_model not in spec -%}
        {{ exceptions.raise_compiler_error(
            "deid_staging_model: '" ~ staging_model ~ "' has no PHI-tagged columns in the staging YAML "
            ~ "(or macros/deid/deid_column_spec.sql is stale: run python -m ehr2omop.deidgen)"
        ) }}
    {%- endif -%}
    {%- set defaults = deid_default_rules() -%}
    {#- the documented columns, in YAML order: an undocumented column does not pass -#}
    {%- set columns = spec[staging_model] -%}
    {%- set column_names = columns | map(attribute='name') | list -%}
    {%- set has_person = person_column in column_names -%}
    {%- set first_date = [] -%}
    {%- set shared = [] -%}
    {%- set birth = [] -%}
    {%- set select_list = [] -%}

    {%- for column in columns -%}
        {%- set name = column.name -%}
        {%- if not column.data_type -%}
            {{ exceptions.raise_compiler_error(
                staging_model ~ "." ~ name ~ ": no data_type in its YAML; the deid boundary needs it"
            ) }}
        {%- endif -%}
        {%- set meta = column if column.phi else none -%}
        {%- set source_column = 'source_rows.' ~ adapter.quote(name) -%}
        {%- set data_type = column.data_type -%}
        {%- if meta is none -%}
            {%- do select_list.append(source_column ~ ' as ' ~ adapter.quote(name)) -%}
        {%- else -%}
            {%- set rule = meta.get('deid_rule') or defaults.get(meta.get('phi')) -%}
            {%- if rule is none -%}
                {{ exceptions.raise_compiler_error(
                    staging_model ~ "." ~ name ~ ": phi kind '" ~ meta.get('phi')
                    ~ "' has no default rule: give the column a deid_rule in its YAML meta"
                ) }}
            {%- endif -%}
            {%- if rule in ['shift', 'birth_date', 'shared_text'] and not has_person -%}
                {{ exceptions.raise_compiler_error(
                    staging_model ~ "." ~ name ~ ": rule " ~ rule ~ " needs the person column "
                    ~ person_column ~ ", which the model does not have"
                ) }}
            {%- endif -%}
            {%- if rule == 'pseudonym' and name == person_column -%}
                {%- set expression = 'person_keys.person_key' -%}
            {%- elif rule == 'pseudonym' -%}
                {%- set id_space = meta.get('id_space') or (name[:-3] if name.endswith('_id') else name) -%}
                {%- set expression = deid_pseudonym(source_column, id_space) -%}
            {%- elif rule == 'shift' -%}
                {%- set kind = 'date' if data_type == 'date' else 'timestamp' -%}
                {%- set expression = deid_shift_date(source_column, 'person_keys.shift_days', kind) -%}
                {%- if not first_date -%}
                    {%- do first_date.append(expression) -%}
                {%- endif -%}
            {%- elif rule == 'zip' -%}
                {%- set expression = deid_zip(source_column) -%}
            {%- elif rule == 'birth_date' -%}
                {%- set expression = 'person_keys.birth_date' -%}
                {%- do birth.append(name) -%}
            {%- elif rule == 'shared_text' -%}
                {%- set code_column = meta.get('deid_code_column') -%}
                {%- if not code_column -%}
                    {{ exceptions.raise_compiler_error(
                        staging_model ~ "." ~ name ~ ": rule shared_text needs deid_code_column in its meta"
                    ) }}
                {%- endif -%}
                {%- do shared.append({'column': name, 'code': code_column}) -%}
                {%- set keep_when = meta.get('deid_keep_when') -%}
                {%- set expression -%}
                    case
                        {% if keep_when -%}
                            when {{ keep_when | replace('{row}', 'source_rows') }} then {{ source_column }}
                        {% endif -%}
                        when shared__{{ name }}.{{ adapter.quote(name) }} is not null then {{ source_column }}
                    end
                {%- endset -%}
            {%- elif rule == 'drop' -%}
                {%- set expression = 'cast(null as ' ~ data_type ~ ')' -%}
            {%- else -%}
                {{ exceptions.raise_compiler_error(
                    staging_model ~ "." ~ name ~ ": unknown deid_rule '" ~ rule
                    ~ "' (pseudonym, shift, zip, birth_date, shared_text, drop)"
                ) }}
            {%- endif -%}
            {%- do select_list.append(expression ~ ' as ' ~ adapter.quote(name)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if birth -%}
        {%- do select_list.append('person_keys.is_age_aggregated as birth_date_is_aggregated') -%}
    {%- endif %}
with

source_rows as (
    select * from {{ source_relation }}
),

{% if has_person -%}
person_keys as (
    select * from {{ keys_relation }}
),
{% endif -%}
{% for item in shared %}
shared__{{ item.column }} as (
    -- texts that at least {{ var('deid_free_text_min_persons', 10) }} persons share for one code
    select
        {{ adapter.quote(item.code) }},
        {{ adapter.quote(item.column) }}
    from source_rows
    where {{ adapter.quote(item.column) }} is not null
    group by {{ adapter.quote(item.code) }}, {{ adapter.quote(item.column) }}
    having count(distinct {{ person_column }}) >= {{ var('deid_free_text_min_persons', 10) | int }}
),
{% endfor %}
final as (
    select
        {{ select_list | join(',\n        ') }}
    from source_rows
    {% if has_person -%}
    inner join person_keys
        on source_rows.{{ person_column }} = person_keys.{{ person_column }}
    {% endif -%}
    {% for item in shared -%}
    left outer join shared__{{ item.column }}
        on
            source_rows.{{ adapter.quote(item.code) }} = shared__{{ item.column }}.{{ adapter.quote(item.code) }}
            and source_rows.{{ adapter.quote(item.column) }} = shared__{{ item.column }}.{{ adapter.quote(item.column) }}
    {% endfor -%}
    {% if has_person and first_date and not birth -%}
    where
        -- rows of a 90+ person dated before the aggregated birth date are left out
        not person_keys.is_age_aggregated
        or {{ first_date[0] }} is null
        or {{ first_date[0] }} >= person_keys.birth_date
    {% endif -%}
)

select * from final
{%- endmacro %}


{#-
    True when the boundary of `staging_model` can make two different staging rows equal in
    `columns`: one of them is PHI-tagged with a rule that loses detail (drop, shared_text,
    zip), e.g. two device rows that differ only in their UDI. A model keying rows by a hash
    of those columns must then number the repeats (see mapped_clinical_events).
-#}
{% macro deid_loses_detail(staging_model, columns) -%}
    {%- set defaults = deid_default_rules() -%}
    {%- for column in deid_column_spec().get(staging_model, []) if column.name in columns and column.phi -%}
        {%- if (column.get('deid_rule') or defaults.get(column.phi)) in ['drop', 'shared_text', 'zip'] -%}
            {{- return(true) -}}
        {%- endif -%}
    {%- endfor -%}
    {{- return(false) -}}
{%- endmacro %}


{#-
    The columns the boundary publishes by the shared_text rule (the column's deid_rule, else its
    PHI kind's default, as deid_staging_model resolves it): one mapping per column with model,
    column, code (its deid_code_column) and keep_when (its deid_keep_when, or none).
-#}
{% macro deid_shared_text_columns() -%}
    {%- set defaults = deid_default_rules() -%}
    {%- set shared = [] -%}
    {%- for model_name, columns in deid_column_spec().items() -%}
        {%- for column in columns if column.phi
            and (column.get('deid_rule') or defaults.get(column.phi)) == 'shared_text' -%}
            {%- do shared.append({
                'model': model_name, 'column': column.name, 'code': column.get('deid_code_column'),
                'keep_when': column.get('deid_keep_when'),
            }) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return(shared) -}}
{%- endmacro %}
