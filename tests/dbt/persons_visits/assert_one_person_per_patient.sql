-- Every valid staged patient (by its pseudonym in deid_synthea__patients) is exactly
-- one person in omop.person, and every person is a staged patient. Returns one row per
-- patient or person breaking the rule.
with

deid_synthea__patients as (
    select * from {{ ref('deid_synthea__patients') }}
),

person_ids as (
    select * from {{ ref('person_ids') }}
),

person as (
    select * from {{ ref('person') }}
),

persons_per_patient as (
    select
        deid_synthea__patients.patient_id,
        count(person.person_id) as person_count
    from deid_synthea__patients
    left outer join person_ids
        on deid_synthea__patients.patient_id = person_ids.source_key
    left outer join person
        on person_ids.id = person.person_id
    group by deid_synthea__patients.patient_id
),

patient_of_person as (
    select
        person.person_id,
        deid_synthea__patients.patient_id
    from person
    left outer join person_ids
        on person.person_id = person_ids.id
    left outer join deid_synthea__patients
        on person_ids.source_key = deid_synthea__patients.patient_id
),

final as (
    select
        'staged patient with ' || cast(person_count as {{ dbt.type_string() }}) || ' persons' as problem,
        patient_id as offending_key
    from persons_per_patient
    where person_count != 1

    union all

    select
        'person of no staged patient' as problem,
        cast(person_id as {{ dbt.type_string() }}) as offending_key
    from patient_of_person
    where patient_id is null
)

select * from final
