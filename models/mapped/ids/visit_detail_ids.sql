{#- Permanent visit_detail_id of every Synthea encounter id. -#}
{{ stable_id_config() }}

{{ stable_ids(ref('mapped_visit_assignments'), 'encounter_id') }}
