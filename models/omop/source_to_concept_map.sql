with

demo_source_to_concept_map as (
    select * from {{ ref('demo_source_to_concept_map') }}
),

custom_source_to_concept_map as (
    select * from {{ ref('custom_source_to_concept_map') }}
),

all_mappings as (
    select * from demo_source_to_concept_map
    union all
    select * from custom_source_to_concept_map
),

final as (
    select
        cast(source_code as varchar(50)) as source_code,
        cast(source_concept_id as integer) as source_concept_id,
        cast(source_vocabulary_id as varchar(20)) as source_vocabulary_id,
        cast(source_code_description as varchar(255)) as source_code_description,
        cast(target_concept_id as integer) as target_concept_id,
        cast(target_vocabulary_id as varchar(20)) as target_vocabulary_id,
        cast(valid_start_date as date) as valid_start_date,
        cast(valid_end_date as date) as valid_end_date,
        cast(invalid_reason as varchar(1)) as invalid_reason
    from all_mappings
)

select * from final
