with

base_synthea__medications as (
    select * from {{ ref('base_synthea__medications') }}
),

valid_rows as (
    select * from base_synthea__medications
    where _reject_reason is null
),

final as (
    select
        {{ staging_select_list(synthea_entity('medications')) }},
        _batch_id,
        _file_name,
        _line_number
    from valid_rows
)

select * from final
