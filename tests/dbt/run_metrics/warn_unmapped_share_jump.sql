{#-
    Unmapped jump: a domain of quality_mapping_coverage whose unmapped share
    (0..1) grew by more than var run_metrics_unmapped_share_max_increase (0.02)
    since the latest recorded build (audit.run_metric, metric unmapped_share),
    typically a new source code without a mapping. One row per such domain: the
    domain, previous and current share and unmapped codes, and the codes of its
    top unmapped list that the previous build's list did not hold; the message is
    logged too.
-#}
{{ config(severity='warn', tags=['run_metrics']) }}

{%- set max_increase = run_metric_var_number('run_metrics_unmapped_share_max_increase', 0.02, 0, 1) -%}

with

run_metric as (
    select * from {{ source('audit', 'run_metric') }}
),

current_metrics as (
    {{ run_metric_mapping_sql(ref('quality_mapping_coverage')) }}
),

previous_share as (
    {{ run_metric_latest_sql('run_metric', 'unmapped_share') }}
),

previous_codes as (
    {{ run_metric_latest_sql('run_metric', 'unmapped_codes') }}
),

current_share as (
    select
        subject as domain_name,
        value as unmapped_share
    from current_metrics
    where metric = 'unmapped_share'
),

current_top_codes as (
    select
        split_part(subject, '/', 1) as domain_name,
        substr(subject, length(split_part(subject, '/', 1)) + 2) as source_code,
        subject,
        value as unmapped_rows
    from current_metrics
    where metric = 'unmapped_code_rows'
),

previous_top_codes as (
    -- the top unmapped codes recorded by the build that recorded the previous share
    select run_metric.subject
    from run_metric
    inner join previous_share
        on
            run_metric.invocation_id = previous_share.invocation_id
            and split_part(run_metric.subject, '/', 1) = previous_share.subject
    where run_metric.metric = 'unmapped_code_rows'
),

new_top_codes as (
    select
        current_top_codes.domain_name,
        string_agg(
            current_top_codes.source_code || ' (' || current_top_codes.unmapped_rows || ' rows)', ', '
            order by current_top_codes.unmapped_rows desc, current_top_codes.source_code asc
        ) as new_unmapped_codes
    from current_top_codes
    left outer join previous_top_codes
        on current_top_codes.subject = previous_top_codes.subject
    where previous_top_codes.subject is null
    group by current_top_codes.domain_name
),

final as (
    select
        current_share.domain_name,
        round(previous_share.value, 4) as previous_unmapped_share,
        round(current_share.unmapped_share, 4) as current_unmapped_share,
        {{ max_increase }} as max_increase,
        previous_codes.value as previous_unmapped_codes,
        current_unmapped.value as current_unmapped_codes,
        new_top_codes.new_unmapped_codes,
        'unmapped jump: domain ' || current_share.domain_name || ' has '
        || round(100 * current_share.unmapped_share, 1) || '% unmapped rows, '
        || round(100 * previous_share.value, 1) || '% in the previous successful build (+'
        || round(100 * (current_share.unmapped_share - previous_share.value), 1)
        || ' points; var run_metrics_unmapped_share_max_increase allows '
        || round(100 * {{ max_increase }}, 1) || ' points); unmapped codes '
        || coalesce(cast(previous_codes.value as text), '?') || ' -> '
        || coalesce(cast(current_unmapped.value as text), '?')
        || coalesce('; new among the top unmapped: ' || new_top_codes.new_unmapped_codes, '') as message
    from current_share
    inner join previous_share
        on current_share.domain_name = previous_share.subject
    left outer join previous_codes
        on current_share.domain_name = previous_codes.subject
    left outer join current_metrics as current_unmapped
        on
            current_share.domain_name = current_unmapped.subject
            and current_unmapped.metric = 'unmapped_codes'
    left outer join new_top_codes
        on current_share.domain_name = new_top_codes.domain_name
    where current_share.unmapped_share - previous_share.value > {{ max_increase }}
)

select * from final
