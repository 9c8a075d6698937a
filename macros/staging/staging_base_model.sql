{#-
    The SQL of a base model: every row of one raw table, typed and renamed,
    with the reason it is rejected (NULL when it is valid).

    One pass over the raw table, two sorts for an entity with an id (one by
    content hash, one by id), one sort otherwise. Values are typed in the
    first step, under the window steps, so each cast runs once per row: a
    step after the last window would be inlined by the planner and each cast
    re-evaluated wherever its result is referenced. The raw columns travel
    along, for the checks and for the raw record of a rejected row.

        source          the raw table
        <parents>       the staging models foreign keys are checked against
        typed           each value read as its staged type; content hash; id
        copies          rank of each row among identical rows (duplicate_row)
        batch_versions  [entities with an id] contents per id and batch
        id_versions     [entities with an id] the latest batch of each id
        referenced      [entities with foreign keys] parent rows looked up
        judged          the first rule the row breaks, in priority order
        final           staged columns, metadata, reason, raw record

    Arguments:
        source_name  dbt source the raw table belongs to (e.g. 'synthea')
        entity       registry entry of the entity (e.g. synthea_entity('patients'))
-#}
{% macro staging_base_model(source_name, entity) -%}
    {%- if source_name is not string or source_name | trim == '' -%}
        {{ exceptions.raise_compiler_error("staging_base_model: argument `source_name` must name a dbt source, got '" ~ source_name ~ "'") }}
    {%- endif -%}
    {%- if entity is not mapping or 'name' not in entity or 'columns' not in entity -%}
        {{ exceptions.raise_compiler_error("staging_base_model: argument `entity` must be a registry entry with `name` and `columns`, e.g. synthea_entity('patients')") }}
    {%- endif -%}
    {%- for column in entity.columns -%}
        {%- if column is not mapping or not column.get('name') or not column.get('source') -%}
            {{ exceptions.raise_compiler_error("staging_base_model: argument `entity` ('" ~ entity.name ~ "'): column #" ~ loop.index ~ " needs a `name` and a `source`") }}
        {%- endif -%}
        {%- if column.get('type', 'text') != 'text' -%}
            {%- do staging_invalid_reason(column.type, entity.name ~ '.' ~ column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(adapter.dispatch('staging_base_model', 'ehr2omop')(source_name, entity)) }}
{%- endmacro %}


{% macro default__staging_base_model(source_name, entity) -%}

    {%- set raw_relation = source(source_name, entity.name) -%}
    {%- set raw_columns = staging_raw_columns(entity) -%}
    {#- a batch build restages only the batch's patients (macros/batch/batch.sql) -#}
    {%- set person = entity.columns | selectattr('name', 'equalto', 'patient_id') | list -%}
    {%- if person -%}
        {%- do batch_config('patient_id', 'staging') -%}
    {%- endif -%}
    {%- set metadata_columns = staging_raw_metadata_columns() -%}
    {%- set references = entity.get('references', []) -%}
    {%- set key = entity.get('key') -%}

    {#- The raw table must hold every column the registry reads. A column the
        registry does not know (the loader adds one when a newer Synthea
        header has it) is not staged, but still counts for duplicates and is
        kept in the raw record of a rejected row; a warning names it. -#}
    {%- if execute -%}
        {%- set actual = adapter.get_columns_in_relation(raw_relation) | map(attribute='name') | map('lower') | list -%}
        {%- set missing = (raw_columns + metadata_columns) | reject('in', actual) | list -%}
        {%- set unknown = actual | reject('in', raw_columns + metadata_columns) | list -%}
        {%- if actual | length == 0 -%}
            {{ exceptions.raise_compiler_error("staging_base_model: raw table " ~ raw_relation ~ " is missing; load an extract first (ehr2omop load " ~ source_name ~ " <dir>)") }}
        {%- elif missing -%}
            {{ exceptions.raise_compiler_error("staging_base_model: raw table " ~ raw_relation ~ " lacks column(s) " ~ missing | join(', ') ~ " that the " ~ source_name ~ " registry reads for '" ~ entity.name ~ "'; reload the extract with the current loader or fix the registry") }}
        {%- elif unknown -%}
            {%- do exceptions.warn("staging_base_model: raw table " ~ raw_relation ~ " has column(s) " ~ unknown | join(', ') ~ " that the " ~ source_name ~ " registry does not stage; they count for duplicates and are kept in raw records. Add them to the registry to stage them.") -%}
            {%- set raw_columns = raw_columns + unknown -%}
        {%- endif -%}
    {%- endif -%}

    {#- The raw expression of each staged column, by staged name. -#}
    {%- set raw_expr = {} -%}
    {%- set columns_by_name = {} -%}
    {%- for column in entity.columns -%}
        {%- do raw_expr.update({column.name: staging_raw_expr(column)}) -%}
        {%- do columns_by_name.update({column.name: column}) -%}
    {%- endfor -%}

    {%- set typed_columns = entity.columns | rejectattr('type', 'undefined') | rejectattr('type', 'equalto', 'text') | list -%}
    {%- set required_columns = entity.columns | selectattr('required', 'defined') | selectattr('required') | list -%}
    {%- set parent_models = references | map(attribute='model') | unique | list -%}
    {%- if parent_models | length != references | length -%}
        {{ exceptions.raise_compiler_error("staging_base_model: entity '" ~ entity.name ~ "' references the same model twice; one reference per parent model") }}
    {%- endif -%}
    {%- for reference in references -%}
        {%- if reference.column not in raw_expr -%}
            {{ exceptions.raise_compiler_error("staging_base_model: a reference of '" ~ entity.name ~ "' names column '" ~ reference.column ~ "', which is not one of its staged columns") }}
        {%- endif -%}
    {%- endfor -%}
    {%- set previous = namespace(cte='copies') -%}

with

source as (
    select * from {{ raw_relation }}
    {%- if person and batch_mode() %}
    where
        {{ staging_raw_expr(person[0]) }} in {{ batch_keys('patient_id', 'staging') }}
        -- rows of a new batch without a patient (rejected), which no patient brings along
        or ({{ staging_raw_expr(person[0]) }} is null and _batch_id not in (select batch_id from staging.built_batches))
    {%- endif %}
),
{%- for model in parent_models %}

{{ model }} as (
    select * from {{ ref(model) }}
),
{%- endfor %}

typed as (
    -- each raw value read as its staged type (NULL where it does not parse),
    -- the row's content hash and its id; done in this first step so that
    -- each cast runs once per row
    select
        source.*
        {%- for column in typed_columns %},
        {{ ehr2omop_try_cast(raw_expr[column.name], column.type) }} as _typed_{{ column.name }}
        {%- endfor %},
        {%- if key %}
        {{ adapter.quote(key) }} as _entity_key,
        {%- endif %}
        {{ ehr2omop_row_hash(staging_quote_all(raw_columns)) }} as _row_hash
    from source
),

copies as (
    -- identical raw rows: the first one loaded is copy 1, the others duplicates
    {%- if key %}
    -- (identical rows have the same id, so partitioning by id first changes no copy number
    -- and leaves the rows sorted by id for the id windows below: one full sort, not two)
    {%- endif %}
    select
        typed.*,
        row_number() over (
            partition by {% if key %}_entity_key, {% endif %}_row_hash
            order by _loaded_at, _batch_id, _file_name, _line_number
        ) as _copy_number
    from typed
),
{%- if key %}

batch_versions as (
    -- contents of each id within a batch: two hashes mean two versions
    select
        copies.*,
        min(_row_hash) over id_in_batch as _batch_min_hash,
        max(_row_hash) over id_in_batch as _batch_max_hash
    from copies
    window id_in_batch as (partition by _entity_key, _loaded_at, _batch_id)
),

id_versions as (
    -- the latest batch that holds each id, and its contents
    select
        batch_versions.*,
        last_value(_loaded_at) over id_history as _latest_loaded_at,
        last_value(_batch_id) over id_history as _latest_batch_id,
        last_value(_batch_min_hash) over id_history as _latest_min_hash,
        last_value(_batch_max_hash) over id_history as _latest_max_hash
    from batch_versions
    window id_history as (
        partition by _entity_key
        order by _loaded_at, _batch_id
        rows between unbounded preceding and unbounded following
    )
),
{%- set previous.cte = 'id_versions' %}
{%- endif %}
{%- if references %}

referenced as (
    -- each foreign key looked up among the parent's valid rows
    select
        {{ previous.cte }}.*
        {%- for reference in references %},
        {{ reference.model }}.{{ reference.key }} as _parent_{{ loop.index }}_key
        {%- if reference.get('same') %},
        {{ reference.model }}.{{ reference.same.parent_column }} as _parent_{{ loop.index }}_{{ reference.same.parent_column }}
        {%- endif %}
        {%- endfor %}
    from {{ previous.cte }}
    {%- for reference in references %}
    left join {{ reference.model }}
        on {{ staging_raw_expr(columns_by_name[reference.column], previous.cte) }} = {{ reference.model }}.{{ reference.key }}
    {%- endfor %}
),
{%- set previous.cte = 'referenced' %}
{%- endif %}

judged as (
    -- the first rule the row breaks, in priority order
    select
        {{ previous.cte }}.*,
        case
            {%- if required_columns %}
            when {% for column in required_columns -%}
                {{ raw_expr[column.name] }} is null{{ '\n                or ' if not loop.last }}
                {%- endfor %}
                then 'missing_required_value'
            {%- endif %}
            {%- for reason in ['invalid_date', 'invalid_timestamp', 'invalid_number'] %}
            {%- set checked = [] %}
            {%- for column in typed_columns if staging_invalid_reason(column.type, column.name) == reason %}
            {%- do checked.append('(' ~ raw_expr[column.name] ~ ' is not null and _typed_' ~ column.name ~ ' is null)') %}
            {%- endfor %}
            {%- if checked %}
            when {{ checked | join('\n                or ') }}
                then '{{ reason }}'
            {%- endif %}
            {%- endfor %}
            when _copy_number > 1
                then 'duplicate_row'
            {%- if key %}
            when _batch_min_hash != _batch_max_hash
                then 'conflicting_id'
            when (_loaded_at != _latest_loaded_at or _batch_id != _latest_batch_id)
                and not (_row_hash = _latest_min_hash and _row_hash = _latest_max_hash)
                then 'superseded'
            {%- endif %}
            {%- for reason in staging_reject_reasons() %}
            {%- for reference in references %}
            {%- if reference.reason == reason %}
            when {{ raw_expr[reference.column] }} is not null and _parent_{{ loop.index }}_key is null
                then '{{ reason }}'
            {%- endif %}
            {%- if reference.get('same') and reference.same.reason == reason %}
            when {{ raw_expr[reference.column] }} is not null
                and {{ raw_expr[reference.same.column] }} != _parent_{{ loop.index }}_{{ reference.same.parent_column }}
                then '{{ reason }}'
            {%- endif %}
            {%- endfor %}
            {%- endfor %}
        end as _reject_reason
    from {{ previous.cte }}
),

final as (
    select
        {%- for column in entity.columns %}
        {%- if column in typed_columns %}
        _typed_{{ column.name }} as {{ column.name }},
        {%- else %}
        {{ raw_expr[column.name] }} as {{ column.name }},
        {%- endif %}
        {%- endfor %}
        _batch_id,
        _file_name,
        _line_number,
        _loaded_at,
        _reject_reason,
        case
            when _reject_reason is not null
                then {{ ehr2omop_json_object(raw_columns) }}
        end as _raw_record
    from judged
)

select * from final
{%- endmacro %}


{#- Each name double-quoted as an identifier, for use in generated SQL. -#}
{% macro staging_quote_all(names) -%}
    {%- set quoted = [] -%}
    {%- for name in names -%}
        {%- do quoted.append(adapter.quote(name)) -%}
    {%- endfor -%}
    {{ return(quoted) }}
{%- endmacro %}


{#- The SQL expression that reads one staged column from the raw columns:
    the raw column (or several, coalesced in order), limited to the rows
    where its `when` condition holds; for numbers, the text NaN, which
    Synthea writes for a ratio without a denominator, reads as no value.
    `relation_alias`, when given, qualifies each raw column. -#}
{% macro staging_raw_expr(column, relation_alias=none) -%}
    {%- set prefix = (relation_alias ~ '.') if relation_alias is not none else '' -%}
    {%- set sources = [column.source] if column.source is string else column.source -%}
    {%- set quoted = [] -%}
    {%- for source_column in sources -%}
        {%- do quoted.append(prefix ~ adapter.quote(source_column)) -%}
    {%- endfor -%}
    {%- set expr = quoted[0] if quoted | length == 1 else 'coalesce(' ~ quoted | join(', ') ~ ')' -%}
    {%- if column.get('when') -%}
        {%- set expr = 'case when ' ~ column.when ~ ' then ' ~ expr ~ ' end' -%}
    {%- endif -%}
    {%- if column.get('type', 'text') in ('numeric', 'double precision', 'integer') -%}
        {%- set expr = "nullif(" ~ expr ~ ", 'NaN')" -%}
    {%- endif -%}
    {{ return(expr) }}
{%- endmacro %}
