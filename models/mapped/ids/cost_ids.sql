{#- Permanent cost_id of every cost key (cost domain|OMOP event id) of mapped_costs. -#}
{{ stable_id_config() }}

{{ stable_ids(ref('mapped_costs'), 'cost_key') }}
