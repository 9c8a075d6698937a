{#- Permanent dose_era_id of every era key (person_id|ingredient|unit|dose|first day)
    of mapped_dose_eras. -#}
{{ stable_id_config() }}

{{ stable_ids(batch_rows(ref('mapped_dose_eras'), 'person_id'), 'era_key') }}
