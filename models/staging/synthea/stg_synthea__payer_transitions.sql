with

base_synthea__payer_transitions as (
    select * from {{ ref('base_synthea__payer_transitions') }}
),

valid_rows as (
    select * from base_synthea__payer_transitions
    where _reject_reason is null
),

final as (
    select
        {{ staging_select_list(synthea_entity('payer_transitions')) }},
        _batch_id,
        _file_name,
        _line_number
    from valid_rows
)

select * from final
