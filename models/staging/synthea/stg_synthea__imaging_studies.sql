with

base_synthea__imaging_studies as (
    select * from {{ ref('base_synthea__imaging_studies') }}
),

valid_rows as (
    select * from base_synthea__imaging_studies
    where _reject_reason is null
),

final as (
    select
        {{ staging_select_list(synthea_entity('imaging_studies')) }},
        _batch_id,
        _file_name,
        _line_number
    from valid_rows
)

select * from final
