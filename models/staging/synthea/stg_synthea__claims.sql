with

base_synthea__claims as (
    select * from {{ ref('base_synthea__claims') }}
),

valid_rows as (
    select * from base_synthea__claims
    where _reject_reason is null
),

final as (
    select
        {{ staging_select_list(synthea_entity('claims')) }},
        _batch_id,
        _file_name,
        _line_number
    from valid_rows
)

select * from final
