{#-
    One row per valid staged encounter: the visit it belongs to, following the rules
    of OHDSI ETL-Synthea.

    1. Inpatient encounters of a person that overlap or are at most one day apart
       (by date) form one inpatient visit.
    2. Emergency and urgent care encounters form one emergency room visit per person
       and day; other encounters (ambulatory, wellness, outpatient, home, ...) one
       outpatient visit per person and day.
    3. Such a day group whose whole span (by date) lies within an inpatient visit
       joins that visit instead.

    A visit is named by its visit_key: person_id | visit class | first day. The key
    stays the same when the same data is built again, and when a later batch adds
    encounters that do not change the grouping, so visit_occurrence_ids keeps the id.
    Consecutive inpatient visits of a person are at least two days apart, so two of
    them never share a first day.
-#}
{{ config(
    indexes=[
        {'columns': ['encounter_id'], 'unique': true},
        {'columns': ['visit_key']},
    ],
) }}
{{ batch_config('person_id') }}

with

deid_synthea__encounters as (
    select * from {{ batch_rows(ref('deid_synthea__encounters'), 'patient_id') }}
),

person_ids as (
    select * from {{ ref('person_ids') }}
),

provider_ids as (
    select * from {{ ref('provider_ids') }}
),

care_site_ids as (
    select * from {{ ref('care_site_ids') }}
),

encounters as (
    -- an encounter without a stop, or stopping before it starts, lasts an instant
    select
        deid_synthea__encounters.encounter_id,
        deid_synthea__encounters.patient_id,
        person_ids.id as person_id,
        provider_ids.id as provider_id,
        care_site_ids.id as care_site_id,
        deid_synthea__encounters.encounter_class,
        deid_synthea__encounters.code as encounter_code,
        deid_synthea__encounters.start_datetime,
        greatest(
            deid_synthea__encounters.start_datetime,
            coalesce(deid_synthea__encounters.stop_datetime, deid_synthea__encounters.start_datetime)
        ) as end_datetime,
        case
            when lower(deid_synthea__encounters.encounter_class) = 'inpatient' then 'inpatient'
            when
                lower(deid_synthea__encounters.encounter_class) in ('emergency', 'urgentcare')
                then 'emergency'
            else 'outpatient'
        end as encounter_visit_class
    from deid_synthea__encounters
    inner join person_ids
        on deid_synthea__encounters.patient_id = person_ids.source_key
    left outer join provider_ids
        on deid_synthea__encounters.provider_id = provider_ids.source_key
    left outer join care_site_ids
        on deid_synthea__encounters.organization_id = care_site_ids.source_key
),

encounter_days as (
    select
        *,
        cast(start_datetime as date) as start_date,
        cast(end_datetime as date) as end_date
    from encounters
),

inpatient_encounters as (
    -- the latest end date among the person's earlier inpatient encounters
    select
        encounter_id,
        person_id,
        start_datetime,
        start_date,
        end_date,
        max(end_date) over (
            partition by person_id
            order by start_datetime, encounter_id
            rows between unbounded preceding and 1 preceding
        ) as previous_end_date
    from encounter_days
    where encounter_visit_class = 'inpatient'
),

inpatient_islands as (
    -- a new inpatient visit starts more than one day after all earlier ones ended
    select
        encounter_id,
        person_id,
        start_date,
        end_date,
        sum(
            case
                when previous_end_date is null or start_date > previous_end_date + 1 then 1
                else 0
            end
        ) over (
            partition by person_id
            order by start_datetime, encounter_id
            rows between unbounded preceding and current row
        ) as island_number
    from inpatient_encounters
),

inpatient_visits as (
    select
        person_id,
        island_number,
        min(start_date) as visit_first_date,
        max(end_date) as visit_last_date
    from inpatient_islands
    group by person_id, island_number
),

day_groups as (
    -- emergency / outpatient encounters of a person grouped by class and day
    select
        person_id,
        encounter_visit_class,
        start_date as visit_first_date,
        max(end_date) as visit_last_date
    from encounter_days
    where encounter_visit_class != 'inpatient'
    group by person_id, encounter_visit_class, start_date
),

day_group_visits as (
    -- a day group inside an inpatient visit belongs to it (inpatient visits of a
    -- person do not overlap, so at most one matches)
    select
        day_groups.person_id,
        day_groups.encounter_visit_class,
        day_groups.visit_first_date as group_date,
        coalesce(
            case when inpatient_visits.person_id is not null then 'inpatient' end,
            day_groups.encounter_visit_class
        ) as visit_class,
        coalesce(inpatient_visits.visit_first_date, day_groups.visit_first_date) as visit_first_date
    from day_groups
    left outer join inpatient_visits
        on
            day_groups.person_id = inpatient_visits.person_id
            and day_groups.visit_first_date >= inpatient_visits.visit_first_date
            and day_groups.visit_last_date <= inpatient_visits.visit_last_date
),

assigned as (
    select
        encounter_days.*,
        case
            when encounter_days.encounter_visit_class = 'inpatient' then 'inpatient'
            else day_group_visits.visit_class
        end as visit_class,
        case
            when encounter_days.encounter_visit_class = 'inpatient' then inpatient_visits.visit_first_date
            else day_group_visits.visit_first_date
        end as visit_first_date
    from encounter_days
    left outer join inpatient_islands
        on encounter_days.encounter_id = inpatient_islands.encounter_id
    left outer join inpatient_visits
        on
            inpatient_islands.person_id = inpatient_visits.person_id
            and inpatient_islands.island_number = inpatient_visits.island_number
    left outer join day_group_visits
        on
            encounter_days.person_id = day_group_visits.person_id
            and encounter_days.encounter_visit_class = day_group_visits.encounter_visit_class
            and encounter_days.start_date = day_group_visits.group_date
),

keyed as (
    select
        *,
        cast(person_id as {{ dbt.type_string() }})
        || '|' || visit_class
        || '|' || to_char(visit_first_date, 'YYYY-MM-DD') as visit_key,
        -- the encounters that define the visit come first when naming its class
        case when encounter_visit_class = visit_class then 0 else 1 end as defines_visit
    from assigned
),

with_visit as (
    select
        *,
        min(start_datetime) over visit_encounters as visit_start_datetime,
        max(end_datetime) over visit_encounters as visit_end_datetime,
        first_value(provider_id) over visit_in_order as visit_provider_id,
        first_value(care_site_id) over visit_in_order as visit_care_site_id,
        first_value(encounter_class) over visit_by_definition as visit_source_value
    from keyed
    window
        visit_encounters as (partition by visit_key),
        visit_in_order as (
            partition by visit_key
            order by start_datetime, encounter_id
            rows between unbounded preceding and unbounded following
        ),
        visit_by_definition as (
            partition by visit_key
            order by defines_visit, start_datetime, encounter_id
            rows between unbounded preceding and unbounded following
        )
),

final as (
    select
        encounter_id,
        patient_id,
        person_id,
        encounter_class,
        encounter_code,
        case encounter_visit_class
            when 'inpatient' then {{ fixed_concept('visit_inpatient') }}
            when 'emergency' then {{ fixed_concept('visit_emergency_room') }}
            else {{ fixed_concept('visit_outpatient') }}
        end as visit_detail_concept_id,
        start_datetime,
        end_datetime,
        provider_id,
        care_site_id,
        visit_key,
        visit_class,
        case visit_class
            when 'inpatient' then {{ fixed_concept('visit_inpatient') }}
            when 'emergency' then {{ fixed_concept('visit_emergency_room') }}
            else {{ fixed_concept('visit_outpatient') }}
        end as visit_concept_id,
        visit_start_datetime,
        visit_end_datetime,
        visit_provider_id,
        visit_care_site_id,
        visit_source_value
    from with_visit
)

select * from final
