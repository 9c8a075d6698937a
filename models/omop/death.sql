{{ batch_config('person_id') }}
with

mapped_persons as (
    select * from {{ batch_rows(ref('mapped_persons'), 'person_id') }}
),

final as (
    select
        cast(person_id as {{ omop_id_type() }}) as person_id,
        cast(death_date as date) as death_date,
        cast(null as timestamp) as death_datetime,
        cast({{ fixed_concept('type_ehr') }} as integer) as death_type_concept_id,
        cast(null as integer) as cause_concept_id,
        cast(null as varchar(50)) as cause_source_value,
        cast(null as integer) as cause_source_concept_id
    from mapped_persons
    where death_date is not null
)

select * from final
