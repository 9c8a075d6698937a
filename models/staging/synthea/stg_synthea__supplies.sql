with

base_synthea__supplies as (
    select * from {{ ref('base_synthea__supplies') }}
),

valid_rows as (
    select * from base_synthea__supplies
    where _reject_reason is null
),

final as (
    select
        {{ staging_select_list(synthea_entity('supplies')) }},
        _batch_id,
        _file_name,
        _line_number
    from valid_rows
)

select * from final
