{#- stg_synthea__supplies with every PHI-tagged column de-identified (deid_staging_model). -#}
{{ deid_staging_model('stg_synthea__supplies') }}
