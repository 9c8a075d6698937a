{#- stg_synthea__claims with every PHI-tagged column de-identified (deid_staging_model). -#}
{{ deid_staging_model('stg_synthea__claims') }}
