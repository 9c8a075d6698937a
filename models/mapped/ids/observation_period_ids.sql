{#-
    Permanent observation_period_id of every period key (person_id|first day of the
    period) of mapped_observation_periods.
-#}
{{ stable_id_config() }}

{{ stable_ids(batch_rows(ref('mapped_observation_periods'), 'person_id'), 'period_key') }}
