{#- Permanent observation_id of each clinical event routed to observation, keyed by
    event_key and target concept (domain_event_key). -#}
{{ stable_id_config() }}

{{ stable_ids(batch_rows(ref('mapped_domain_events'), 'person_id'), 'observation_key') }}
