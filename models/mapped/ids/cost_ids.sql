{#- Permanent cost_id of every cost key (cost domain|OMOP event id) of mapped_costs. -#}
{{ stable_id_config() }}

{{ stable_ids(batch_rows(ref('mapped_costs'), 'person_id'), 'cost_key') }}
