{#-
    How much of the built CDM maps to standard concepts: one row per domain,
    read from the omop tables (what DataQualityDashboard's
    standardConceptRecordCompleteness measures).

        visit        visit_occurrence.visit_concept_id
        condition    condition_occurrence.condition_concept_id
        drug         drug_exposure.drug_concept_id
        procedure    procedure_occurrence.procedure_concept_id
        device       device_exposure.device_concept_id
        measurement  measurement.measurement_concept_id
        observation  observation.observation_concept_id
        unit         unit_concept_id of the measurement, observation and
                     device rows that have a unit_source_value
        value        value_as_concept_id of the measurement and observation
                     rows that have one (a coded value or a `Maps to value`);
                     its code is the value_source_value, else the event's code

    A row is unmapped when its concept is 0 (or missing); a code is unmapped
    when at least one of its rows is. An empty domain has shares of 0.
    top_unmapped_codes lists the var quality_top_unmapped_codes (5) most
    frequent unmapped codes as 'code (rows), ...'.
-#}
{%- set top_codes = var('quality_top_unmapped_codes', 5) -%}

with

visit_occurrence as (
    select * from {{ ref('visit_occurrence') }}
),

condition_occurrence as (
    select * from {{ ref('condition_occurrence') }}
),

drug_exposure as (
    select * from {{ ref('drug_exposure') }}
),

procedure_occurrence as (
    select * from {{ ref('procedure_occurrence') }}
),

device_exposure as (
    select * from {{ ref('device_exposure') }}
),

measurement as (
    select * from {{ ref('measurement') }}
),

observation as (
    select * from {{ ref('observation') }}
),

domains as (
    select domain_name
    from (
        values
        ('visit'), ('condition'), ('drug'), ('procedure'), ('device'),
        ('measurement'), ('observation'), ('unit'), ('value')
    ) as domains (domain_name)
),

coded_rows as (
    -- one row per CDM row and concept field: its domain, source code, concept
    select
        'visit' as domain_name,
        visit_source_value as source_code,
        visit_concept_id as concept_id
    from visit_occurrence
    union all
    select
        'condition' as domain_name,
        condition_source_value as source_code,
        condition_concept_id as concept_id
    from condition_occurrence
    union all
    select
        'drug' as domain_name,
        drug_source_value as source_code,
        drug_concept_id as concept_id
    from drug_exposure
    union all
    select
        'procedure' as domain_name,
        procedure_source_value as source_code,
        procedure_concept_id as concept_id
    from procedure_occurrence
    union all
    select
        'device' as domain_name,
        device_source_value as source_code,
        device_concept_id as concept_id
    from device_exposure
    union all
    select
        'measurement' as domain_name,
        measurement_source_value as source_code,
        measurement_concept_id as concept_id
    from measurement
    union all
    select
        'observation' as domain_name,
        observation_source_value as source_code,
        observation_concept_id as concept_id
    from observation
    union all
    select
        'unit' as domain_name,
        unit_source_value as source_code,
        unit_concept_id as concept_id
    from measurement
    where unit_source_value is not null
    union all
    select
        'unit' as domain_name,
        unit_source_value as source_code,
        unit_concept_id as concept_id
    from observation
    where unit_source_value is not null
    union all
    select
        'unit' as domain_name,
        unit_source_value as source_code,
        unit_concept_id as concept_id
    from device_exposure
    where unit_source_value is not null
    union all
    select
        'value' as domain_name,
        coalesce(value_source_value, measurement_source_value) as source_code,
        value_as_concept_id as concept_id
    from measurement
    where value_as_concept_id is not null
    union all
    select
        'value' as domain_name,
        coalesce(value_source_value, observation_source_value) as source_code,
        value_as_concept_id as concept_id
    from observation
    where value_as_concept_id is not null
),

code_counts as (
    select
        domain_name,
        source_code,
        count(*) as total_rows,
        sum(
            case
                when coalesce(concept_id, {{ fixed_concept('no_matching_concept') }})
                    = {{ fixed_concept('no_matching_concept') }}
                    then 1
                else 0
            end
        ) as unmapped_rows
    from coded_rows
    group by domain_name, source_code
),

domain_counts as (
    select
        domain_name,
        sum(total_rows) as total_rows,
        sum(unmapped_rows) as unmapped_rows,
        count(source_code) as distinct_codes,
        count(case when unmapped_rows > 0 then source_code end) as unmapped_codes
    from code_counts
    group by domain_name
),

top_unmapped as (
    select
        domain_name,
        {{ dbt.listagg(
            measure="source_code || ' (' || cast(unmapped_rows as " ~ dbt.type_string() ~ ") || ')'",
            delimiter_text="', '",
            order_by_clause="order by unmapped_rows desc, source_code",
            limit_num=top_codes,
        ) }} as top_unmapped_codes
    from code_counts
    where unmapped_rows > 0
        and source_code is not null
    group by domain_name
),

final as (
    select
        domains.domain_name as domain,  -- noqa: RF04
        cast(coalesce(domain_counts.total_rows, 0) as {{ dbt.type_bigint() }}) as total_rows,
        cast(coalesce(domain_counts.unmapped_rows, 0) as {{ dbt.type_bigint() }}) as unmapped_rows,
        coalesce(
            cast(domain_counts.unmapped_rows as numeric) / nullif(domain_counts.total_rows, 0), 0
        ) as unmapped_share,
        cast(coalesce(domain_counts.distinct_codes, 0) as {{ dbt.type_bigint() }}) as distinct_codes,
        cast(coalesce(domain_counts.unmapped_codes, 0) as {{ dbt.type_bigint() }}) as unmapped_codes,
        coalesce(
            cast(domain_counts.unmapped_codes as numeric) / nullif(domain_counts.distinct_codes, 0), 0
        ) as unmapped_code_share,
        top_unmapped.top_unmapped_codes
    from domains
    left outer join domain_counts
        on domains.domain_name = domain_counts.domain_name
    left outer join top_unmapped
        on domains.domain_name = top_unmapped.domain_name
)

select * from final
