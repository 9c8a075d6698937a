{#-
    Observation periods by the OHDSI convention for EHR data: a person is observed
    from the first to the last day of any clinical record, and a gap longer than
    var('observation_period_gap_days') (548 days, 18 months, by default) with no
    record at all ends one period and starts another. Each record counts as the
    range of days from its start to its stop (its start alone when it has no stop).
    Periods never start before birth nor end after death. A person with no usable
    record gets one one-day period on the birth date, so that every person has one.
    A period is named by period_key: person_id | first day.
-#}
{%- set gap_days = var('observation_period_gap_days', 548) -%}
{%- if gap_days is not number or gap_days < 0 -%}
    {{ exceptions.raise_compiler_error(
        "var `observation_period_gap_days` must be a number of days >= 0, got '" ~ gap_days ~ "'"
    ) }}
{%- endif -%}
{{ config(
    indexes=[
        {'columns': ['person_id']},
    ],
) }}
{{ batch_config('person_id') }}

with

mapped_persons as (
    select * from {{ batch_rows(ref('mapped_persons'), 'person_id') }}
),

deid_synthea__encounters as (
    select * from {{ batch_rows(ref('deid_synthea__encounters'), 'patient_id') }}
),

deid_synthea__conditions as (
    select * from {{ batch_rows(ref('deid_synthea__conditions'), 'patient_id') }}
),

deid_synthea__medications as (
    select * from {{ batch_rows(ref('deid_synthea__medications'), 'patient_id') }}
),

deid_synthea__immunizations as (
    select * from {{ batch_rows(ref('deid_synthea__immunizations'), 'patient_id') }}
),

deid_synthea__observations as (
    select * from {{ batch_rows(ref('deid_synthea__observations'), 'patient_id') }}
),

deid_synthea__procedures as (
    select * from {{ batch_rows(ref('deid_synthea__procedures'), 'patient_id') }}
),

deid_synthea__devices as (
    select * from {{ batch_rows(ref('deid_synthea__devices'), 'patient_id') }}
),

deid_synthea__allergies as (
    select * from {{ batch_rows(ref('deid_synthea__allergies'), 'patient_id') }}
),

deid_synthea__careplans as (
    select * from {{ batch_rows(ref('deid_synthea__careplans'), 'patient_id') }}
),

deid_synthea__supplies as (
    select * from {{ batch_rows(ref('deid_synthea__supplies'), 'patient_id') }}
),

deid_synthea__imaging_studies as (
    select * from {{ batch_rows(ref('deid_synthea__imaging_studies'), 'patient_id') }}
),

record_ranges as (
    -- the days each clinical record covers, from every event table of staging
    select
        patient_id,
        cast(start_datetime as date) as start_date,
        cast(stop_datetime as date) as end_date
    from deid_synthea__encounters

    union all

    select
        patient_id,
        cast(start_date as date) as start_date,
        cast(stop_date as date) as end_date
    from deid_synthea__conditions

    union all

    select
        patient_id,
        cast(start_datetime as date) as start_date,
        cast(stop_datetime as date) as end_date
    from deid_synthea__medications

    union all

    select
        patient_id,
        cast(immunization_datetime as date) as start_date,
        cast(null as date) as end_date
    from deid_synthea__immunizations

    union all

    select
        patient_id,
        cast(observation_datetime as date) as start_date,
        cast(null as date) as end_date
    from deid_synthea__observations

    union all

    select
        patient_id,
        cast(start_datetime as date) as start_date,
        cast(stop_datetime as date) as end_date
    from deid_synthea__procedures

    union all

    select
        patient_id,
        cast(start_datetime as date) as start_date,
        cast(stop_datetime as date) as end_date
    from deid_synthea__devices

    union all

    select
        patient_id,
        cast(start_date as date) as start_date,
        cast(stop_date as date) as end_date
    from deid_synthea__allergies

    union all

    select
        patient_id,
        cast(start_date as date) as start_date,
        cast(stop_date as date) as end_date
    from deid_synthea__careplans

    union all

    select
        patient_id,
        cast(supply_date as date) as start_date,
        cast(null as date) as end_date
    from deid_synthea__supplies

    union all

    select
        patient_id,
        cast(study_datetime as date) as start_date,
        cast(null as date) as end_date
    from deid_synthea__imaging_studies
),

day_ranges as (
    -- one row per person and first day: the farthest last day from that day (a
    -- record without a stop, or stopping before it starts, covers its first day)
    select
        patient_id,
        start_date,
        max(greatest(start_date, coalesce(end_date, start_date))) as end_date
    from record_ranges
    group by patient_id, start_date
),

clipped as (
    -- no observation before birth or after death
    select
        mapped_persons.person_id,
        greatest(day_ranges.start_date, mapped_persons.birth_date) as start_date,
        case
            when mapped_persons.death_date is null then day_ranges.end_date
            else least(day_ranges.end_date, mapped_persons.death_date)
        end as end_date
    from day_ranges
    inner join mapped_persons
        on day_ranges.patient_id = mapped_persons.patient_id
),

valid_ranges as (
    select
        person_id,
        start_date,
        end_date,
        max(end_date) over (
            partition by person_id
            order by start_date, end_date
            rows between unbounded preceding and 1 preceding
        ) as previous_end_date
    from clipped
    where start_date <= end_date
),

islands as (
    -- a new period starts when more than the allowed gap separates a range from
    -- every earlier one
    select
        person_id,
        start_date,
        end_date,
        sum(
            case
                when previous_end_date is null or start_date > previous_end_date + {{ gap_days }} then 1
                else 0
            end
        ) over (
            partition by person_id
            order by start_date, end_date
            rows between unbounded preceding and current row
        ) as period_number
    from valid_ranges
),

periods as (
    select
        person_id,
        min(start_date) as period_start_date,
        max(end_date) as period_end_date
    from islands
    group by person_id, period_number
),

unobserved_persons as (
    -- persons without any record inside their life: one day, at birth
    select
        mapped_persons.person_id,
        mapped_persons.birth_date as period_start_date,
        mapped_persons.birth_date as period_end_date
    from mapped_persons
    left outer join periods
        on mapped_persons.person_id = periods.person_id
    where periods.person_id is null
),

all_periods as (
    select * from periods
    union all
    select * from unobserved_persons
),

final as (
    select
        cast(person_id as {{ dbt.type_string() }})
        || '|' || to_char(period_start_date, 'YYYY-MM-DD') as period_key,
        person_id,
        period_start_date,
        period_end_date
    from all_periods
)

select * from final
