{#-
    DataQualityDashboard (DQD) v5.4 rules as dbt generic tests. The tests and their arguments are
    generated into models/omop/_omop__models.yml by scripts/ehr2omop/dqdgen.py (called by cdmgen):
    one test per DQD check name, hung on the cdm_source model, listing every table, field or
    concept it checks; each checked table is read through ref(), so the test runs after it is built.

    Every test returns one row per check it holds (a table, a field or a concept), with
    the violating rows, the denominator, their share in percent and a status:
      fail            share > threshold (a threshold of 0: any violating row)
      pass            share <= threshold
      not_applicable  nothing to check: the table is empty, the field is all NULL, the concept is
                      absent (denominator 0)
    fail_calc counts the `fail` rows only, so dbt passes, warns or errors on failing checks and
    `ehr2omop dq` (dbt test --store-failures) reads every row, not applicable ones included.
-#}

{% test dq_table_check(model, check_name, tables) %}
    {{ config(fail_calc=dq_fail_calc(), store_failures=true, schema=var('dq_results_schema', 'dq_results')) }}
    {{- dq_check_list(tables, 'tables', 'dq_table_check') }}
with

counts as (
    {{- dq_counts_union('TABLE', check_name, tables) }}
)

{{ dq_result('TABLE', check_name, 'counts') }}
{% endtest %}


{% test dq_field_check(model, check_name, fields) %}
    {{ config(fail_calc=dq_fail_calc(), store_failures=true, schema=var('dq_results_schema', 'dq_results')) }}
    {{- dq_check_list(fields, 'fields', 'dq_field_check') }}
with
{{ dq_field_ctes(check_name, fields) }}
counts as (
    {{- dq_counts_union('FIELD', check_name, fields) }}
)

{{ dq_result('FIELD', check_name, 'counts') }}
{% endtest %}


{% test dq_concept_check(model, check_name, concepts) %}
    {{ config(fail_calc=dq_fail_calc(), store_failures=true, schema=var('dq_results_schema', 'dq_results')) }}
    {{- dq_check_list(concepts, 'concepts', 'dq_concept_check') }}
    {%- if check_name not in ('plausibleGender', 'plausibleValueLow', 'plausibleValueHigh') -%}
        {{ exceptions.raise_compiler_error("argument `check_name` of dq_concept_check is '" ~ check_name ~ "'; expected plausibleGender, plausibleValueLow or plausibleValueHigh") }}
    {%- endif %}
    {#- one block per checked table and field, each with its concepts as inline rows -#}
    {%- set groups = {} %}
    {%- for item in concepts %}
        {%- set key = item.table ~ '.' ~ item.field %}
        {%- if key not in groups %}{% do groups.update({key: []}) %}{% endif %}
        {%- do groups[key].append(item) %}
    {%- endfor %}
with

{% for key, items in groups.items() %}
    {%- set table = items[0].table %}
    {%- set column = 'cdm_table.' ~ adapter.quote(items[0].field) %}
    {%- set with_unit = items | selectattr('unit_concept_id', 'defined') | list | length > 0 %}
spec_{{ loop.index }} as (
    {%- for item in items %}
    select
        cast({{ dq_number(item.concept_id, 'concept_id') }} as {{ dbt.type_bigint() }}) as concept_id,
        cast({{ dq_number(item.unit_concept_id, 'unit_concept_id') if item.get('unit_concept_id') is not none else 'null' }} as {{ dbt.type_bigint() }}) as unit_concept_id,
        {{ dq_number(item.threshold, 'threshold') }} as threshold,
        {{ dq_number(item.value, 'value') if item.get('value') is not none else 'null' }} as plausible_value,
        {{ dq_number(dq_gender_concept(item.gender), 'gender') if item.get('gender') is not none else 'null' }} as gender_concept_id
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

matched_{{ loop.index }} as (
    select
        spec.concept_id,
        spec.unit_concept_id,
        spec.threshold,
        {%- if check_name == 'plausibleGender' %}
        case when {{ column }} is not null and person.gender_concept_id <> spec.gender_concept_id then 1 else 0 end as is_violated,
        case when {{ column }} is not null then 1 else 0 end as is_counted
        {%- else %}
        case when cdm_table.value_as_number {{ '<' if check_name == 'plausibleValueLow' else '>' }} spec.plausible_value then 1 else 0 end as is_violated,
        case when cdm_table.value_as_number is not null then 1 else 0 end as is_counted
        {%- endif %}
    from spec_{{ loop.index }} as spec
    left join {{ ref(table) }} as cdm_table
        on
            {{ column }} = spec.concept_id
            {%- if with_unit %}
            and (spec.unit_concept_id is null or cdm_table.unit_concept_id = spec.unit_concept_id)
            {%- endif %}
    {%- if check_name == 'plausibleGender' %}
    left join {{ ref('person') }} as person
        on cdm_table.person_id = person.person_id
    {%- endif %}
),

{% endfor %}

counts as (
    {%- for key, items in groups.items() %}
    select
        cast('{{ items[0].table }}' as {{ dbt.type_string() }}) as table_name,
        cast('{{ items[0].field }}' as {{ dbt.type_string() }}) as field_name,
        concept_id,
        unit_concept_id,
        threshold,
        sum(is_violated) as violated_rows,
        sum(is_counted) as denominator_rows,
        sum(is_counted) > 0 as is_applicable
    from matched_{{ loop.index }}
    group by concept_id, unit_concept_id, threshold
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

{{ dq_result('CONCEPT', check_name, 'counts') }}
{% endtest %}


{#- Fails compilation unless `items` is a non-empty list of mappings, each naming its table. -#}
{#- The counts CTE body of a table or field DQ test: one row per checked item (name, threshold,
    violated and denominator rows, applicability), unioned. -#}
{% macro dq_counts_union(check_level, check_name, items) -%}
    {%- if check_level == 'FIELD' and check_name in dq_scanned_field_checks() %}
        {#- one branch per table (per field for the joined checks), in the order of the items -#}
        {%- set per_field = check_name in dq_field_joined_checks() %}
        {%- set by_scan = {} %}
        {%- set scans = [] %}
        {%- for item in items %}
            {%- set scan = item.table ~ ('.' ~ item.field if per_field else '') %}
            {%- if scan not in by_scan %}{% do by_scan.update({scan: []}) %}{% do scans.append(scan) %}{% endif %}
            {%- do by_scan[scan].append(item) %}
        {%- endfor %}
        {%- for scan in scans %}
    select
        table_name,
        field_name,
        cast(null as {{ dbt.type_bigint() }}) as concept_id,
        cast(null as {{ dbt.type_bigint() }}) as unit_concept_id,
        threshold,
        violated_rows,
        denominator_rows,
        is_applicable
    from (
        {{ dq_field_scan(check_name, by_scan[scan]) }}
    ) as field_scan_{{ loop.index }}
    {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    {%- else %}
    {%- for item in items %}
    select
        cast('{{ item.table }}' as {{ dbt.type_string() }}) as table_name,
        {%- if check_level == 'FIELD' %}
        cast('{{ item.field }}' as {{ dbt.type_string() }}) as field_name,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as field_name,
        {%- endif %}
        cast(null as {{ dbt.type_bigint() }}) as concept_id,
        cast(null as {{ dbt.type_bigint() }}) as unit_concept_id,
        {{ dq_number(item.threshold, 'threshold') }} as threshold,
        violated_rows,
        denominator_rows,
        is_applicable
    from (
        {{ dq_field_counts(check_name, item) if check_level == 'FIELD' else dq_table_counts(check_name, item) }}
    ) as {{ check_level | lower }}_counts_{{ loop.index }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {%- endif %}
{%- endmacro %}


{% macro dq_check_list(items, name, test) -%}
    {%- if items is string or items is mapping or items is not iterable or items | length == 0 -%}
        {{ exceptions.raise_compiler_error("argument `" ~ name ~ "` of " ~ test ~ " must be a non-empty list of mappings") }}
    {%- endif -%}
    {%- for item in items -%}
        {%- if item is not mapping or item.get('table') is not string -%}
            {{ exceptions.raise_compiler_error("argument `" ~ name ~ "` of " ~ test ~ ": entry " ~ loop.index ~ " names no `table`: " ~ (item | string)) }}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}


{#- dbt's failure count of a DQ test: its failing checks (not its rows). -#}
{% macro dq_fail_calc() -%}
    {{ return("coalesce(sum(case when status = 'fail' then 1 else 0 end), 0)") }}
{%- endmacro %}


{#- A number argument, checked, as SQL text. -#}
{% macro dq_number(value, name) -%}
    {%- if value is number -%}
        {{ return(value | string) }}
    {%- elif value is string and value | trim | length > 0 and (value | trim | replace('.', '', 1) | replace('-', '', 1)).isdigit() -%}
        {{ return(value | trim) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("argument `" ~ name ~ "` of a DQ test is '" ~ (value | string) ~ "', not a number") }}
    {%- endif -%}
{%- endmacro %}


{#- Gender concept of a plausibleGender rule ('Male' or 'Female'). -#}
{% macro dq_gender_concept(gender) -%}
    {%- set name = (gender | string | lower) -%}
    {%- if name == 'male' -%}
        {{ return(fixed_concept('gender_male')) }}
    {%- elif name == 'female' -%}
        {{ return(fixed_concept('gender_female')) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("argument `gender` of a plausibleGender rule is '" ~ gender ~ "'; expected Male or Female") }}
    {%- endif -%}
{%- endmacro %}


{#- The result rows of a DQ test from a relation of counts (see the top of this file). -#}
{% macro dq_result(check_level, check_name, counts_relation) -%}
    {%- set catalog = dq_check_catalog() -%}
    {%- if check_name not in catalog -%}
        {{ exceptions.raise_compiler_error("argument `check_name` is '" ~ check_name ~ "', not a DataQualityDashboard check; expected one of: " ~ (catalog.keys() | join(', '))) }}
    {%- endif -%}
    {%- set check = catalog[check_name] %}
, shares as (
    select
        table_name,
        field_name,
        concept_id,
        unit_concept_id,
        threshold,
        coalesce(violated_rows, 0) as violated_rows,
        coalesce(denominator_rows, 0) as denominator_rows,
        is_applicable and coalesce(denominator_rows, 0) > 0 as is_applicable,
        case
            when coalesce(denominator_rows, 0) > 0
                then 100.0 * coalesce(violated_rows, 0) / denominator_rows
        end as violated_pct
    from {{ counts_relation }}
)

select
    '{{ check_name }}' as check_name,
    '{{ check_level }}' as check_level,
    '{{ check.kahn_category }}' as kahn_category,
    '{{ check.kahn_subcategory }}' as kahn_subcategory,
    '{{ check.severity }}' as dqd_severity,
    table_name,
    field_name,
    concept_id,
    unit_concept_id,
    violated_rows,
    denominator_rows,
    violated_pct,
    threshold,
    case
        when not is_applicable then 'not_applicable'
        when violated_pct > threshold then 'fail'
        else 'pass'
    end as status
from shares
{%- endmacro %}


{#- A select of the counts of a table-level check: violated_rows, denominator_rows, is_applicable. -#}
{% macro dq_table_counts(check_name, item) -%}
    {%- set model = ref(item.table) -%}
    {%- if check_name == 'cdmTable' -%}
        select
            case when count(*) = 0 then 1 else 0 end as violated_rows,
            1 as denominator_rows,
            true as is_applicable
        from information_schema.tables
        where table_schema = '{{ model.schema }}' and table_name = '{{ model.identifier }}'
    {%- elif check_name == 'measurePersonCompleteness' -%}
        select
            sum(case when present.person_id is null then 1 else 0 end) as violated_rows,
            count(*) as denominator_rows,
            count(*) > 0 as is_applicable
        from {{ ref('person') }} as person
        left join (select distinct person_id from {{ model }}) as present
            on person.person_id = present.person_id
    {%- elif check_name == 'measureConditionEraCompleteness' -%}
        select
            sum(case when present.person_id is null then 1 else 0 end) as violated_rows,
            count(*) as denominator_rows,
            count(*) > 0 as is_applicable
        from (select distinct person_id from {{ ref('condition_occurrence') }}) as with_condition
        left join (select distinct person_id from {{ model }}) as present
            on with_condition.person_id = present.person_id
    {%- elif check_name == 'measureObservationPeriodOverlap' -%}
        select
            count(distinct case when other.observation_period_id is not null then period.observation_period_id end) as violated_rows,
            count(distinct period.observation_period_id) as denominator_rows,
            count(*) > 0 as is_applicable
        from {{ model }} as period
        left join {{ model }} as other
            on
                period.person_id = other.person_id
                and period.observation_period_id <> other.observation_period_id
                and period.observation_period_start_date <= other.observation_period_end_date
                and period.observation_period_end_date >= other.observation_period_start_date
    {%- else -%}
        {{ exceptions.raise_compiler_error("argument `check_name` of dq_table_check is '" ~ check_name ~ "'; expected cdmTable, measurePersonCompleteness, measureConditionEraCompleteness or measureObservationPeriodOverlap") }}
    {%- endif -%}
{%- endmacro %}


{#- Field checks computed by reading the checked table itself, row by row (dq_field_scan). The
    fields of one table are measured in one scan of it, not one scan per field, except for the
    checks that join a table per field (dq_field_joined_checks): a chain of such joins carries
    every row through each of them and is slower than a scan per field. -#}
{% macro dq_scanned_field_checks() -%}
    {{ return([
        'isRequired', 'measureValueCompleteness', 'cdmDatatype', 'standardConceptRecordCompleteness',
        'sourceConceptRecordCompleteness', 'sourceValueCompleteness', 'plausibleValueLow', 'plausibleValueHigh',
        'plausibleAfterBirth', 'plausibleBeforeDeath', 'plausibleStartBeforeEnd', 'withinVisitDates'
    ] + dq_field_joined_checks()) }}
{%- endmacro %}


{% macro dq_field_joined_checks() -%}
    {{ return(['isForeignKey', 'fkDomain', 'fkClass', 'isStandardValidConcept']) }}
{%- endmacro %}


{#- The CTEs a field test's counts read, each ending with a comma: the catalog, read once
    (cdmField); none for the other checks. -#}
{% macro dq_field_ctes(check_name, fields) -%}
    {%- if check_name == 'cdmField' %}
catalog_columns as (
    select
        table_schema,
        table_name,
        column_name
    from information_schema.columns
    {%- set schemas = [] %}
    {%- for item in fields %}{% do schemas.append(ref(item.table).schema) %}{% endfor %}
    where table_schema in ('{{ schemas | unique | join("', '") }}')
),
    {%- endif %}
{%- endmacro %}


{#- A select of the counts of cdmField or isPrimaryKey on one field: violated_rows,
    denominator_rows, is_applicable (the other field checks: dq_field_scan). -#}
{% macro dq_field_counts(check_name, item) -%}
    {%- set model = ref(item.table) -%}
    {%- set c = 'cdm_table.' ~ adapter.quote(item.field) -%}
    {%- if check_name == 'cdmField' -%}
        select
            case when count(*) = 0 then 1 else 0 end as violated_rows,
            1 as denominator_rows,
            true as is_applicable
        from catalog_columns
        where
            table_schema = '{{ model.schema }}'
            and table_name = '{{ model.identifier }}'
            and column_name = '{{ item.field }}'
    {%- elif check_name == 'isPrimaryKey' -%}
        select
            sum(case when {{ c }} is not null and cdm_table.key_rows > 1 then 1 else 0 end) as violated_rows,
            count(*) as denominator_rows,
            count(*) > 0 and count({{ c }}) > 0 as is_applicable
        from (
            select
                {{ adapter.quote(item.field) }},
                count(*) over (partition by {{ adapter.quote(item.field) }}) as key_rows
            from {{ model }}
        ) as cdm_table
    {%- else -%}
        {{ exceptions.raise_compiler_error("argument `check_name` of dq_field_check is '" ~ check_name ~ "', which it does not implement") }}
    {%- endif -%}
{%- endmacro %}


{#- The rows (table_name, field_name, threshold, violated_rows, denominator_rows, is_applicable) of
    a field check over the given fields of one table, from one scan of that table: each field's
    measures are aggregates of the same rows, turned into one row per field by a lateral VALUES. -#}
{% macro dq_field_scan(check_name, items) -%}
    {%- set table = items[0].table %}
    {%- set measures = [] %}
    {%- for item in items %}
        {%- if item.table != table -%}
            {{ exceptions.raise_compiler_error("dq_field_scan reads one table; got " ~ table ~ " and " ~ item.table) }}
        {%- endif %}
        {%- do measures.append(dq_field_measures(check_name, item, loop.index)) %}
    {%- endfor %}
        select
            cast('{{ table }}' as {{ dbt.type_string() }}) as table_name,
            cast(per_field.field_name as {{ dbt.type_string() }}) as field_name,
            per_field.threshold,
            per_field.violated_rows,
            per_field.denominator_rows,
            per_field.is_applicable
        from (
            select
                {%- for m in measures %}
                {{ m.violated }} as violated_{{ loop.index }},
                {{ m.denominator }} as denominator_{{ loop.index }},
                {{ m.applicable }} as applicable_{{ loop.index }}{{ ',' if not loop.last }}
                {%- endfor %}
            from {{ ref(table) }} as cdm_table
            {%- if check_name == 'plausibleAfterBirth' %}
            inner join {{ ref('person') }} as person
                on cdm_table.person_id = person.person_id
            {%- elif check_name == 'plausibleBeforeDeath' %}
            inner join {{ ref('death') }} as death
                on cdm_table.person_id = death.person_id
            {%- elif check_name == 'withinVisitDates' %}
            inner join {{ ref('visit_occurrence') }} as visit
                on cdm_table.visit_occurrence_id = visit.visit_occurrence_id
            {%- endif %}
            {%- for m in measures if m.join %}
            {{ m.join }}
            {%- endfor %}
        ) as scan
        cross join lateral (
            values
            {%- for item in items %}
                (
                    '{{ item.field }}', {{ dq_number(item.threshold, 'threshold') }},
                    scan.violated_{{ loop.index }}, scan.denominator_{{ loop.index }}, scan.applicable_{{ loop.index }}
                ){{ ',' if not loop.last }}
            {%- endfor %}
        ) as per_field (field_name, threshold, violated_rows, denominator_rows, is_applicable)
{%- endmacro %}


{#- The measures of a field check on one field, as SQL over the row `cdm_table` of its table:
    a mapping of violated, denominator and applicable (aggregates) and join (a join clause of
    its own, or ''); `n` numbers the field within its scan so its joins do not clash. -#}
{% macro dq_field_measures(check_name, item, n) -%}
    {%- if item.field is not string or item.field | length == 0 -%}
        {{ exceptions.raise_compiler_error("an entry of argument `fields` has no `field` (check " ~ check_name ~ ")") }}
    {%- endif -%}
    {%- set c = 'cdm_table.' ~ adapter.quote(item.field) -%}
    {#- a table with rows, a field with values: else the check is not applicable -#}
    {%- set populated = 'count(*) > 0 and count(' ~ c ~ ') > 0' -%}
    {%- set join = '' -%}
    {%- if check_name in ('isRequired', 'measureValueCompleteness') -%}
        {%- set violated = 'sum(case when ' ~ c ~ ' is null then 1 else 0 end)' -%}
        {%- set denominator = 'count(*)' -%}
        {%- set applicable = 'count(*) > 0' -%}
    {%- elif check_name == 'cdmDatatype' -%}
        {#- a value of an integer column is an integer: the text test only for the other types -#}
        {%- set violated = 'sum(case when ' ~ c ~ ' is null or pg_typeof(' ~ c ~ ") in ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) then 0"
            ~ ' when cast(' ~ c ~ ' as ' ~ dbt.type_string() ~ ") not similar to '-?[0-9]+' then 1 else 0 end)" -%}
        {%- set denominator = 'count(*)' -%}
        {%- set applicable = populated -%}
    {%- elif check_name == 'isForeignKey' -%}
        {%- if item.to_table is not string or item.to_field is not string -%}
            {{ exceptions.raise_compiler_error("an entry of argument `fields` of isForeignKey lacks `to_table` or `to_field`: " ~ (item | string)) }}
        {%- endif -%}
        {%- set target = 'target_' ~ n -%}
        {%- set join = 'left join (select distinct ' ~ adapter.quote(item.to_field) ~ ' as target_key from ' ~ ref(item.to_table) ~ ') as '
            ~ target ~ ' on ' ~ c ~ ' = ' ~ target ~ '.target_key' -%}
        {%- set violated = 'sum(case when ' ~ c ~ ' is not null and ' ~ target ~ '.target_key is null then 1 else 0 end)' -%}
        {%- set denominator = 'count(*)' -%}
        {%- set applicable = populated -%}
    {%- elif check_name in ('fkDomain', 'fkClass', 'isStandardValidConcept') -%}
        {%- set concept = 'concept_' ~ n -%}
        {%- if check_name == 'fkDomain' -%}
            {%- set wrong = concept ~ ".domain_id not in ('" ~ (item.domains | join("', '")) ~ "')" -%}
        {%- elif check_name == 'fkClass' -%}
            {%- set wrong = concept ~ ".concept_class_id not in ('" ~ (item.classes | join("', '")) ~ "')" -%}
        {%- else -%}
            {%- set wrong = '(coalesce(' ~ concept ~ ".standard_concept, '') <> 'S' or " ~ concept ~ '.invalid_reason is not null)' -%}
        {%- endif -%}
        {%- set join = 'left join ' ~ ref('concept') ~ ' as ' ~ concept ~ ' on ' ~ c ~ ' = ' ~ concept ~ '.concept_id' -%}
        {%- set violated = 'sum(case when ' ~ concept ~ '.concept_id <> 0 and ' ~ wrong ~ ' then 1 else 0 end)' -%}
        {%- set denominator = 'count(*)' -%}
        {%- set applicable = populated -%}
    {%- elif check_name in ('standardConceptRecordCompleteness', 'sourceConceptRecordCompleteness') -%}
        {%- set violated = 'sum(case when ' ~ c ~ ' = 0 then 1 else 0 end)' -%}
        {%- set denominator = 'count(*)' -%}
        {%- set applicable = populated -%}
    {%- elif check_name == 'sourceValueCompleteness' -%}
        {%- set violated = 'count(distinct case when cdm_table.' ~ adapter.quote(item.concept_field) ~ ' = 0 then ' ~ c ~ ' end)' -%}
        {%- set denominator = 'count(distinct ' ~ c ~ ')' -%}
        {%- set applicable = populated -%}
    {%- elif check_name in ('plausibleValueLow', 'plausibleValueHigh') -%}
        {%- set violated = 'sum(case when ' ~ c ~ (' < ' if check_name == 'plausibleValueLow' else ' > ') ~ dq_plausible_value(item) ~ ' then 1 else 0 end)' -%}
        {%- set denominator = 'count(' ~ c ~ ')' -%}
        {%- set applicable = populated -%}
    {%- elif check_name == 'plausibleAfterBirth' -%}
        {%- set birth = "coalesce(cast(person.birth_datetime as date), cast(concat(person.year_of_birth, '-', coalesce(person.month_of_birth, 1), '-', coalesce(person.day_of_birth, 1)) as date))" -%}
        {%- set violated = 'sum(case when cast(' ~ c ~ ' as date) < ' ~ birth ~ ' then 1 else 0 end)' -%}
        {%- set denominator = 'count(' ~ c ~ ')' -%}
        {%- set applicable = populated -%}
    {%- elif check_name == 'plausibleBeforeDeath' -%}
        {#- DQD's grace period: an event up to 60 days after the death date is plausible -#}
        {%- set violated = 'sum(case when cast(' ~ c ~ ' as date) > ' ~ dbt.dateadd('day', 60, 'death.death_date') ~ ' then 1 else 0 end)' -%}
        {%- set denominator = 'count(' ~ c ~ ')' -%}
        {%- set applicable = populated -%}
    {%- elif check_name == 'plausibleStartBeforeEnd' -%}
        {%- set end_column = 'cdm_table.' ~ adapter.quote(item.end_field) -%}
        {%- set violated = 'sum(case when cast(' ~ c ~ ' as date) > cast(' ~ end_column ~ ' as date) then 1 else 0 end)' -%}
        {%- set denominator = 'sum(case when ' ~ c ~ ' is not null and ' ~ end_column ~ ' is not null then 1 else 0 end)' -%}
        {%- set applicable = populated -%}
    {%- elif check_name == 'withinVisitDates' -%}
        {#- DQD's grace period: up to 7 days before the visit starts or after it ends -#}
        {%- set violated = 'sum(case when cast(' ~ c ~ ' as date) < ' ~ dbt.dateadd('day', -7, 'visit.visit_start_date')
            ~ ' or cast(' ~ c ~ ' as date) > ' ~ dbt.dateadd('day', 7, 'visit.visit_end_date') ~ ' then 1 else 0 end)' -%}
        {%- set denominator = 'count(' ~ c ~ ')' -%}
        {%- set applicable = populated -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("argument `check_name` of dq_field_check is '" ~ check_name ~ "', which it does not implement") }}
    {%- endif -%}
    {{ return({'violated': violated, 'denominator': denominator, 'applicable': applicable, 'join': join}) }}
{%- endmacro %}


{#- The bound of a plausibleValueLow/High rule as SQL: a number, a date, tomorrow or next year. -#}
{% macro dq_plausible_value(item) -%}
    {%- if item.value_kind == 'number' -%}
        {{ return(dq_number(item.value, 'value')) }}
    {%- elif item.value_kind == 'date' -%}
        {{ return("cast('" ~ modules.datetime.date.fromisoformat(item.value | string).isoformat() ~ "' as date)") }}
    {%- elif item.value_kind == 'tomorrow' -%}
        {{ return(dbt.dateadd('day', 1, 'current_date')) }}
    {%- elif item.value_kind == 'next_year' -%}
        {{ return('(extract(year from current_date) + 1)') }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("argument `value_kind` of a plausible value rule is '" ~ (item.value_kind | string) ~ "'; expected number, date, tomorrow or next_year") }}
    {%- endif -%}
{%- endmacro %}
