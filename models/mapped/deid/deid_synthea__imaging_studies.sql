{#- stg_synthea__imaging_studies with every PHI-tagged column de-identified (deid_staging_model). -#}
{{ deid_staging_model('stg_synthea__imaging_studies') }}
