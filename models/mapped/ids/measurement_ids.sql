{#- Permanent measurement_id of each clinical event routed to measurement, keyed by
    event_key and target concept (domain_event_key). -#}
{{ stable_id_config() }}

{{ stable_ids(ref('mapped_domain_events'), 'measurement_key') }}
