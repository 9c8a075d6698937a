-- Every valid staged encounter (as the deid boundary publishes it) is exactly one
-- visit_detail, of the same person, whose visit_occurrence exists, belongs to the same
-- person and spans the whole encounter (dates and datetimes). Returns one row per
-- encounter breaking the rule.
with

deid_synthea__encounters as (
    select * from {{ ref('deid_synthea__encounters') }}
),

person_ids as (
    select * from {{ ref('person_ids') }}
),

visit_detail_ids as (
    select * from {{ ref('visit_detail_ids') }}
),

visit_detail as (
    select * from {{ ref('visit_detail') }}
),

visit_occurrence as (
    select * from {{ ref('visit_occurrence') }}
),

encounter_details as (
    select
        deid_synthea__encounters.encounter_id,
        person_ids.id as person_id,
        count(visit_detail.visit_detail_id) as detail_count,
        min(visit_detail.visit_detail_id) as visit_detail_id
    from deid_synthea__encounters
    left outer join person_ids
        on deid_synthea__encounters.patient_id = person_ids.source_key
    left outer join visit_detail_ids
        on deid_synthea__encounters.encounter_id = visit_detail_ids.source_key
    left outer join visit_detail
        on visit_detail_ids.id = visit_detail.visit_detail_id
    group by deid_synthea__encounters.encounter_id, person_ids.id
),

checked as (
    select
        encounter_details.encounter_id,
        case
            when encounter_details.detail_count != 1
                then 'encounter with '
                    || cast(encounter_details.detail_count as {{ dbt.type_string() }})
                    || ' visit details'
            when visit_detail.person_id != encounter_details.person_id
                then 'visit detail of another person'
            when visit_occurrence.visit_occurrence_id is null
                then 'visit detail without its visit occurrence'
            when visit_occurrence.person_id != visit_detail.person_id
                then 'visit occurrence of another person'
            when visit_detail.visit_detail_start_date < visit_occurrence.visit_start_date
                or visit_detail.visit_detail_end_date > visit_occurrence.visit_end_date
                or visit_detail.visit_detail_start_datetime < visit_occurrence.visit_start_datetime
                or visit_detail.visit_detail_end_datetime > visit_occurrence.visit_end_datetime
                then 'encounter outside its visit occurrence'
        end as problem
    from encounter_details
    left outer join visit_detail
        on encounter_details.visit_detail_id = visit_detail.visit_detail_id
    left outer join visit_occurrence
        on visit_detail.visit_occurrence_id = visit_occurrence.visit_occurrence_id
),

final as (
    select
        problem,
        encounter_id as offending_key
    from checked
    where problem is not null
)

select * from final
