{#- Permanent drug_era_id of every era key (person_id|ingredient concept id|first day)
    of mapped_drug_eras. -#}
{{ stable_id_config() }}

{{ stable_ids(batch_rows(ref('mapped_drug_eras'), 'person_id'), 'era_key') }}
