{#- Permanent condition_era_id of every era key (person_id|concept id|first day) of
    mapped_condition_eras. -#}
{{ stable_id_config() }}

{{ stable_ids(batch_rows(ref('mapped_condition_eras'), 'person_id'), 'era_key') }}
