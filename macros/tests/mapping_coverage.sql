{#-
    The mapping coverage gate: each domain's share of unmapped rows (row-weighted) and of
    unmapped distinct codes, from quality_mapping_coverage, against warn and error thresholds
    (var mapping_coverage_thresholds; README "Mapping coverage and the review loop").

    Returns one row per domain and measure above its warn threshold, with breach_level
    'warn' or 'error' and a failure_message naming the domain, the share, the threshold and
    the top unmapped codes; the same messages are logged, so a failing run names them
    without opening the results. fail_calc counts the breaches: any breach warns, and the
    test errors when at least one of them is above its error threshold.
-#}

{% test mapping_coverage_within_thresholds(model, thresholds=none) %}
    {{ config(
        fail_calc='count(*)',
        warn_if='!= 0',
        error_if="!= 0 and max(case when breach_level = 'error' then 1 else 0 end) = 1",
    ) }}
    {%- set limits = mapping_coverage_limits(thresholds) -%}

    {%- set breaches_sql -%}
with

coverage as (
    select * from {{ model }}
),

thresholds as (
    select
        domain,
        measure,
        cast(warn_threshold as numeric) as warn_threshold,
        cast(error_threshold as numeric) as error_threshold
    from (
        values
        {%- for limit in limits %}
            (
                {{ "'" ~ limit.domain ~ "'" if limit.domain is not none else 'null' }},
                '{{ limit.measure }}',
                {{ limit.warn }},
                {{ limit.error if limit.error is not none else 'null' }}
            ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as given (domain, measure, warn_threshold, error_threshold)
),

measures as (
    select
        domain,
        'unmapped_share' as measure,
        'rows' as counted,
        unmapped_share as share,
        unmapped_rows as unmapped,
        total_rows as total,
        top_unmapped_codes
    from coverage
    union all
    select
        domain,
        'unmapped_code_share' as measure,
        'distinct codes' as counted,
        unmapped_code_share as share,
        unmapped_codes as unmapped,
        distinct_codes as total,
        top_unmapped_codes
    from coverage
),

limited as (
    -- a domain's own thresholds, else the default ones (domain null)
    select
        measures.*,
        coalesce(own.warn_threshold, fallback.warn_threshold) as warn_threshold,
        case
            when own.measure is not null then own.error_threshold
            else fallback.error_threshold
        end as error_threshold
    from measures
    left outer join thresholds as own
        on measures.domain = own.domain
            and measures.measure = own.measure
    left outer join thresholds as fallback
        on fallback.domain is null
            and measures.measure = fallback.measure
),

breaches as (
    select
        *,
        case
            when error_threshold is not null and share > error_threshold then 'error'
            else 'warn'
        end as breach_level
    from limited
    where share > warn_threshold
),

final as (
    select
        domain,
        measure,
        share,
        unmapped,
        total,
        warn_threshold,
        error_threshold,
        breach_level,
        top_unmapped_codes,
        'mapping coverage: ' || domain || ': '
        || cast(round(100 * share, 1) as {{ dbt.type_string() }}) || '% of '
        || counted || ' unmapped ('
        || cast(unmapped as {{ dbt.type_string() }}) || ' of '
        || cast(total as {{ dbt.type_string() }}) || '), above the ' || breach_level || ' threshold '
        || cast(
            round(100 * case when breach_level = 'error' then error_threshold else warn_threshold end, 1)
            as {{ dbt.type_string() }}
        ) || '%; top unmapped codes: '
        || coalesce(top_unmapped_codes, '(none)') as failure_message
    from breaches
)

select * from final
    {%- endset -%}

    {%- if execute and flags.WHICH in ['test', 'build'] and load_relation(model) is not none -%}
        {%- for row in run_query(breaches_sql ~ '\norder by breach_level, domain, measure').rows -%}
            {%- do log(row['failure_message'], info=true) -%}
        {%- endfor -%}
    {%- endif %}

{{ breaches_sql }}
{% endtest %}


{#-
    The thresholds the gate applies: a list of {domain, measure, warn, error}, one per measure
    of the `default` entry (domain none) and of each domain entry; a domain entry's measure
    replaces the default's for that domain. Fails at compile time, naming the argument, on a
    malformed value.
-#}
{% macro mapping_coverage_limits(thresholds=none) -%}
    {%- set given = thresholds if thresholds is not none else var('mapping_coverage_thresholds') -%}
    {%- set measures = ['unmapped_share', 'unmapped_code_share'] -%}
    {%- if given is not mapping or 'default' not in given -%}
        {{ exceptions.raise_compiler_error(
            "mapping_coverage_within_thresholds: argument thresholds (var mapping_coverage_thresholds) "
            ~ "must be a mapping with a 'default' entry, got " ~ given
        ) }}
    {%- endif -%}
    {%- set limits = [] -%}
    {%- for domain, entry in given.items() -%}
        {%- if entry is not mapping -%}
            {{ exceptions.raise_compiler_error(
                "mapping_coverage_within_thresholds: thresholds." ~ domain ~ " must be a mapping of "
                ~ measures | join(' / ') ~ " to {warn: ..., error: ...}, got " ~ entry
            ) }}
        {%- endif -%}
        {%- for measure, levels in entry.items() -%}
            {%- set name = "thresholds." ~ domain ~ "." ~ measure -%}
            {%- if measure not in measures -%}
                {{ exceptions.raise_compiler_error(
                    "mapping_coverage_within_thresholds: " ~ name ~ " is not a measure; use "
                    ~ measures | join(' or ')
                ) }}
            {%- endif -%}
            {%- set warn = levels.get('warn') if levels is mapping else none -%}
            {%- set error = levels.get('error') if levels is mapping else none -%}
            {%- if warn is not number or warn < 0 or warn > 1
                or (error is not none and (error is not number or error < warn or error > 1)) -%}
                {{ exceptions.raise_compiler_error(
                    "mapping_coverage_within_thresholds: " ~ name ~ " must be {warn: share, error: share or null} "
                    ~ "with 0 <= warn <= error <= 1, got " ~ levels
                ) }}
            {%- endif -%}
            {%- do limits.append({
                'domain': none if domain == 'default' else domain,
                'measure': measure,
                'warn': warn,
                'error': error,
            }) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if measures | reject('in', limits | selectattr('domain', 'none') | map(attribute='measure') | list) | list -%}
        {{ exceptions.raise_compiler_error(
            "mapping_coverage_within_thresholds: thresholds.default must give both "
            ~ measures | join(' and ')
        ) }}
    {%- endif -%}
    {{ return(limits) }}
{%- endmacro %}
