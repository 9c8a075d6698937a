{#- Permanent care_site_id of every Synthea organization id. -#}
{{ stable_id_config() }}

{{ stable_ids(ref('deid_synthea__organizations'), 'organization_id') }}
