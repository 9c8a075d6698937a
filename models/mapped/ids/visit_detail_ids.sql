{#- Permanent visit_detail_id of every Synthea encounter id. -#}
{{ stable_id_config() }}

{{ stable_ids(batch_rows(ref('mapped_visit_assignments'), 'person_id'), 'encounter_id') }}
