{#-
    Permanent visit_occurrence_id of every visit key (person_id|visit class|first day of
    the visit) of mapped_visit_assignments.
-#}
{{ stable_id_config() }}

{{ stable_ids(batch_rows(ref('mapped_visit_assignments'), 'person_id'), 'visit_key') }}
