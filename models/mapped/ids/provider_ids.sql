{#- Permanent provider_id of every Synthea provider id. -#}
{{ stable_id_config() }}

{{ stable_ids(ref('deid_synthea__providers'), 'provider_id') }}
