{#- Permanent measurement_id of each clinical event routed to measurement, keyed by
    event_key and target concept (domain_event_key). -#}
{{ stable_id_config() }}

{{ stable_ids(batch_rows(ref('mapped_domain_events'), 'person_id'), 'measurement_key') }}
