{#- Permanent payer_plan_period_id of every period key (person_id|payer id|start
    timestamp) of mapped_payer_plan_periods. -#}
{{ stable_id_config() }}

{{ stable_ids(batch_rows(ref('mapped_payer_plan_periods'), 'person_id'), 'period_key') }}
