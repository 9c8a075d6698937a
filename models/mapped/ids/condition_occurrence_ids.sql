{#- Permanent condition_occurrence_id of each clinical event routed to condition_occurrence, keyed by
    event_key and target concept (domain_event_key). -#}
{{ stable_id_config() }}

{{ stable_ids(batch_rows(ref('mapped_domain_events'), 'person_id'), 'condition_occurrence_key') }}
