{#- Permanent person_id of every Synthea patient id (source_key = the patient's UUID). -#}
{{ stable_id_config() }}

{{ stable_ids(ref('deid_synthea__patients'), 'patient_id') }}
