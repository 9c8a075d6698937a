{#- Permanent dose_era_id of every era key (person_id|ingredient|unit|dose|first day)
    of mapped_dose_eras. -#}
{{ stable_id_config() }}

{{ stable_ids(ref('mapped_dose_eras'), 'era_key') }}
