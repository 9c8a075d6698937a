-- Every person has at least one observation period; periods start no later than they
-- end, lie within the person's life, and periods of one person never overlap.
-- Returns one row per person or period breaking a rule.
with

person as (
    select * from {{ ref('person') }}
),

death as (
    select * from {{ ref('death') }}
),

observation_period as (
    select * from {{ ref('observation_period') }}
),

ordered_periods as (
    select
        observation_period.*,
        max(observation_period.observation_period_end_date) over (
            partition by observation_period.person_id
            order by
                observation_period.observation_period_start_date,
                observation_period.observation_period_end_date,
                observation_period.observation_period_id
            rows between unbounded preceding and 1 preceding
        ) as previous_end_date
    from observation_period
),

final as (
    select
        'person without observation period' as problem,
        person.person_id,
        cast(null as {{ omop_id_type() }}) as observation_period_id
    from person
    left outer join observation_period
        on person.person_id = observation_period.person_id
    where observation_period.person_id is null

    union all

    select
        case
            when
                observation_period_start_date > observation_period_end_date
                then 'period ending before it starts'
            else 'period overlapping an earlier one of the person'
        end as problem,
        person_id,
        observation_period_id
    from ordered_periods
    where
        observation_period_start_date > observation_period_end_date
        or observation_period_start_date <= previous_end_date

    union all

    select
        'period outside the life of the person' as problem,
        ordered_periods.person_id,
        ordered_periods.observation_period_id
    from ordered_periods
    inner join person
        on ordered_periods.person_id = person.person_id
    left outer join death
        on ordered_periods.person_id = death.person_id
    where
        ordered_periods.observation_period_start_date < cast(person.birth_datetime as date)
        or ordered_periods.observation_period_end_date > death.death_date
)

select * from final
