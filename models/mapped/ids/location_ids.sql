{#- Permanent location_id of every distinct address key (city, state, zip, county) of mapped_addresses. -#}
{{ stable_id_config() }}

{{ stable_ids(ref('mapped_addresses'), 'location_key') }}
