{#-
    The fixed OMOP concept ids the project writes, each named once, in one place.
    SQL says {{ fixed_concept('type_ehr') }}, never a bare number.
    Each entry: name -> [concept_id, the concept's name in the OMOP vocabulary].
-#}
{% macro fixed_concepts() -%}
    {{ return({
        'no_matching_concept': [0, 'No matching concept'],

        'type_ehr': [32817, 'EHR'],
        'type_ehr_encounter_record': [32827, 'EHR encounter record'],
        'type_ehr_order': [32833, 'EHR order'],
        'type_ehr_administration_record': [32818, 'EHR administration record'],
        'type_standard_algorithm_ehr': [32882, 'Standard algorithm from EHR'],
        'type_standard_algorithm': [32880, 'Standard algorithm'],

        'visit_inpatient': [9201, 'Inpatient Visit'],
        'visit_outpatient': [9202, 'Outpatient Visit'],
        'visit_emergency_room': [9203, 'Emergency Room Visit'],

        'gender_male': [8507, 'MALE'],
        'gender_female': [8532, 'FEMALE'],

        'race_white': [8527, 'White'],
        'race_black': [8516, 'Black or African American'],
        'race_asian': [8515, 'Asian'],
        'race_american_indian_alaska_native': [8657, 'American Indian or Alaska Native'],
        'race_native_hawaiian_pacific_islander': [8557, 'Native Hawaiian or Other Pacific Islander'],

        'ethnicity_hispanic': [38003563, 'Hispanic or Latino'],
        'ethnicity_not_hispanic': [38003564, 'Not Hispanic or Latino'],

        'type_ehr_prescription': [32838, 'EHR prescription'],
        'type_lab': [32856, 'Lab'],

        'type_cost_record': [32814, 'Cost record'],
        'currency_usd': [44818668, 'United States dollar'],
        'cdm_version_5_4_0': [756265, 'OMOP CDM Version 5.4.0'],
    }) }}
{%- endmacro %}


{#- The concept id named `name` in fixed_concepts(), as a SQL integer literal. -#}
{% macro fixed_concept(name) -%}
    {%- set concepts = fixed_concepts() -%}
    {%- if name not in concepts -%}
        {{ exceptions.raise_compiler_error("fixed_concept: name '" ~ name ~ "' is not in fixed_concepts(); add it there with its concept id and concept name") }}
    {%- endif -%}
    {{ concepts[name][0] }}
{%- endmacro %}
