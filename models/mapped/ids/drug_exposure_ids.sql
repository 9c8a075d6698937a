{#- Permanent drug_exposure_id of each clinical event routed to drug_exposure, keyed by
    event_key and target concept (domain_event_key). -#}
{{ stable_id_config() }}

{{ stable_ids(batch_rows(ref('mapped_domain_events'), 'person_id'), 'drug_exposure_key') }}
