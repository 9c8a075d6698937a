with

base_synthea__procedures as (
    select * from {{ ref('base_synthea__procedures') }}
),

valid_rows as (
    select * from base_synthea__procedures
    where _reject_reason is null
),

final as (
    select
        {{ staging_select_list(synthea_entity('procedures')) }},
        _batch_id,
        _file_name,
        _line_number
    from valid_rows
)

select * from final
