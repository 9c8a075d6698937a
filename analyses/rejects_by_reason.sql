-- Staging rejects per entity, batch and reason: where to look first when the row
-- accounting shows rejected rows. Compile with `dbt compile -s rejects_by_reason`.
with

stg_synthea__rejects as (
    select * from {{ ref('stg_synthea__rejects') }}
),

final as (
    select
        entity,
        _batch_id,
        reject_reason,
        count(*) as rejected_rows,
        min(_line_number) as first_line,
        max(_line_number) as last_line
    from stg_synthea__rejects
    group by entity, _batch_id, reject_reason
)

select * from final
order by rejected_rows desc, entity asc, reject_reason asc
