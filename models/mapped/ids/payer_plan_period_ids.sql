{#- Permanent payer_plan_period_id of every period key (person_id|payer id|start
    timestamp) of mapped_payer_plan_periods. -#}
{{ stable_id_config() }}

{{ stable_ids(ref('mapped_payer_plan_periods'), 'period_key') }}
