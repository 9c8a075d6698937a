{#-
    What the Synthea staging layer knows about each CSV entity, in one place.
    The base models, the rejects model and the row-accounting test are all
    generated from this registry, so the 18 entities share one mechanism.

    Per entity:
      key         raw column holding the entity's own id, unique per version;
                  none for event-like entities (no conflicting_id/superseded)
      columns     staged columns, in output order:
                    name      snake_case name in staging
                    source    raw column, or a list of raw columns coalesced
                              in order (a column renamed between versions)
                    type      text (default), date, timestamp, numeric,
                              double precision or integer
                    required  true: an empty value rejects the row
                    when      optional SQL condition on raw columns; the value
                              is only read (and checked) where it holds
      period      optional [start column, end column]: staged columns of a
                  time span, checked (warn only) by a test in tests/dbt/
      references  foreign keys checked against the valid rows of a parent:
                    column     staged column holding the parent id
                    model      parent staging model
                    key        parent's id column
                    reason     reject reason when the parent row is missing
                    same       optional {column, parent_column, reason}: the
                               parent row must also agree on this column
-#}

{% macro synthea_entity_names() -%}
    {{ return([
        'patients',
        'encounters',
        'conditions',
        'medications',
        'observations',
        'procedures',
        'immunizations',
        'allergies',
        'careplans',
        'devices',
        'supplies',
        'imaging_studies',
        'organizations',
        'providers',
        'payers',
        'payer_transitions',
        'claims',
        'claims_transactions',
    ]) }}
{%- endmacro %}


{% macro synthea_entity(name) -%}
    {%- set patient_ref = {'column': 'patient_id', 'model': 'stg_synthea__patients', 'key': 'patient_id', 'reason': 'orphan_patient'} -%}
    {%- set encounter_ref = {
        'column': 'encounter_id', 'model': 'stg_synthea__encounters', 'key': 'encounter_id', 'reason': 'orphan_encounter',
        'same': {'column': 'patient_id', 'parent_column': 'patient_id', 'reason': 'encounter_patient_mismatch'},
    } -%}

    {%- set entities = {

        'patients': {
            'key': 'id',
            'period': ['birth_date', 'death_date'],
            'columns': [
                {'name': 'patient_id', 'source': 'id', 'required': true},
                {'name': 'birth_date', 'source': 'birthdate', 'type': 'date', 'required': true},
                {'name': 'death_date', 'source': 'deathdate', 'type': 'date'},
                {'name': 'ssn', 'source': 'ssn'},
                {'name': 'drivers_license', 'source': 'drivers'},
                {'name': 'passport', 'source': 'passport'},
                {'name': 'name_prefix', 'source': 'prefix'},
                {'name': 'first_name', 'source': 'first'},
                {'name': 'middle_name', 'source': 'middle'},
                {'name': 'last_name', 'source': 'last'},
                {'name': 'name_suffix', 'source': 'suffix'},
                {'name': 'maiden_name', 'source': 'maiden'},
                {'name': 'marital_status', 'source': 'marital'},
                {'name': 'race', 'source': 'race'},
                {'name': 'ethnicity', 'source': 'ethnicity'},
                {'name': 'gender', 'source': 'gender', 'required': true},
                {'name': 'birthplace', 'source': 'birthplace'},
                {'name': 'address', 'source': 'address'},
                {'name': 'city', 'source': 'city'},
                {'name': 'state', 'source': 'state'},
                {'name': 'county', 'source': 'county'},
                {'name': 'county_fips', 'source': 'fips'},
                {'name': 'zip', 'source': 'zip'},
                {'name': 'latitude', 'source': 'lat', 'type': 'double precision'},
                {'name': 'longitude', 'source': 'lon', 'type': 'double precision'},
                {'name': 'healthcare_expenses', 'source': 'healthcare_expenses', 'type': 'numeric'},
                {'name': 'healthcare_coverage', 'source': 'healthcare_coverage', 'type': 'numeric'},
                {'name': 'income', 'source': 'income', 'type': 'numeric'},
            ],
            'references': [],
        },

        'encounters': {
            'key': 'id',
            'period': ['start_datetime', 'stop_datetime'],
            'columns': [
                {'name': 'encounter_id', 'source': 'id', 'required': true},
                {'name': 'start_datetime', 'source': 'start', 'type': 'timestamp', 'required': true},
                {'name': 'stop_datetime', 'source': 'stop', 'type': 'timestamp'},
                {'name': 'patient_id', 'source': 'patient', 'required': true},
                {'name': 'organization_id', 'source': 'organization'},
                {'name': 'provider_id', 'source': 'provider'},
                {'name': 'payer_id', 'source': 'payer'},
                {'name': 'encounter_class', 'source': 'encounterclass'},
                {'name': 'code', 'source': 'code'},
                {'name': 'description', 'source': 'description'},
                {'name': 'base_encounter_cost', 'source': 'base_encounter_cost', 'type': 'numeric'},
                {'name': 'total_claim_cost', 'source': 'total_claim_cost', 'type': 'numeric'},
                {'name': 'payer_coverage', 'source': 'payer_coverage', 'type': 'numeric'},
                {'name': 'reason_code', 'source': 'reasoncode'},
                {'name': 'reason_description', 'source': 'reasondescription'},
            ],
            'references': [patient_ref],
        },

        'conditions': {
            'key': none,
            'period': ['start_date', 'stop_date'],
            'columns': [
                {'name': 'start_date', 'source': 'start', 'type': 'date', 'required': true},
                {'name': 'stop_date', 'source': 'stop', 'type': 'date'},
                {'name': 'patient_id', 'source': 'patient', 'required': true},
                {'name': 'encounter_id', 'source': 'encounter'},
                {'name': 'code_system', 'source': 'system'},
                {'name': 'code', 'source': 'code', 'required': true},
                {'name': 'description', 'source': 'description'},
            ],
            'references': [patient_ref, encounter_ref],
        },

        'medications': {
            'key': none,
            'period': ['start_datetime', 'stop_datetime'],
            'columns': [
                {'name': 'start_datetime', 'source': 'start', 'type': 'timestamp', 'required': true},
                {'name': 'stop_datetime', 'source': 'stop', 'type': 'timestamp'},
                {'name': 'patient_id', 'source': 'patient', 'required': true},
                {'name': 'payer_id', 'source': 'payer'},
                {'name': 'encounter_id', 'source': 'encounter'},
                {'name': 'code', 'source': 'code', 'required': true},
                {'name': 'description', 'source': 'description'},
                {'name': 'base_cost', 'source': 'base_cost', 'type': 'numeric'},
                {'name': 'payer_coverage', 'source': 'payer_coverage', 'type': 'numeric'},
                {'name': 'dispenses', 'source': 'dispenses', 'type': 'integer'},
                {'name': 'total_cost', 'source': 'totalcost', 'type': 'numeric'},
                {'name': 'reason_code', 'source': 'reasoncode'},
                {'name': 'reason_description', 'source': 'reasondescription'},
            ],
            'references': [patient_ref, encounter_ref],
        },

        'observations': {
            'key': none,
            'columns': [
                {'name': 'observation_datetime', 'source': 'date', 'type': 'timestamp', 'required': true},
                {'name': 'patient_id', 'source': 'patient', 'required': true},
                {'name': 'encounter_id', 'source': 'encounter'},
                {'name': 'category', 'source': 'category'},
                {'name': 'code', 'source': 'code', 'required': true},
                {'name': 'description', 'source': 'description'},
                {'name': 'value', 'source': 'value'},
                {'name': 'unit', 'source': 'units'},
                {'name': 'value_type', 'source': 'type'},
                {'name': 'value_as_number', 'source': 'value', 'type': 'numeric', 'when': "\"type\" = 'numeric'"},
            ],
            'references': [patient_ref, encounter_ref],
        },

        'procedures': {
            'key': none,
            'period': ['start_datetime', 'stop_datetime'],
            'columns': [
                {'name': 'start_datetime', 'source': 'start', 'type': 'timestamp', 'required': true},
                {'name': 'stop_datetime', 'source': 'stop', 'type': 'timestamp'},
                {'name': 'patient_id', 'source': 'patient', 'required': true},
                {'name': 'encounter_id', 'source': 'encounter'},
                {'name': 'code', 'source': 'code', 'required': true},
                {'name': 'description', 'source': 'description'},
                {'name': 'base_cost', 'source': 'base_cost', 'type': 'numeric'},
                {'name': 'reason_code', 'source': 'reasoncode'},
                {'name': 'reason_description', 'source': 'reasondescription'},
            ],
            'references': [patient_ref, encounter_ref],
        },

        'immunizations': {
            'key': none,
            'columns': [
                {'name': 'immunization_datetime', 'source': 'date', 'type': 'timestamp', 'required': true},
                {'name': 'patient_id', 'source': 'patient', 'required': true},
                {'name': 'encounter_id', 'source': 'encounter'},
                {'name': 'code', 'source': 'code', 'required': true},
                {'name': 'description', 'source': 'description'},
                {'name': 'base_cost', 'source': 'base_cost', 'type': 'numeric'},
            ],
            'references': [patient_ref, encounter_ref],
        },

        'allergies': {
            'key': none,
            'period': ['start_date', 'stop_date'],
            'columns': [
                {'name': 'start_date', 'source': 'start', 'type': 'date', 'required': true},
                {'name': 'stop_date', 'source': 'stop', 'type': 'date'},
                {'name': 'patient_id', 'source': 'patient', 'required': true},
                {'name': 'encounter_id', 'source': 'encounter'},
                {'name': 'code', 'source': 'code', 'required': true},
                {'name': 'code_system', 'source': 'system'},
                {'name': 'description', 'source': 'description'},
                {'name': 'allergy_type', 'source': 'type'},
                {'name': 'allergy_category', 'source': 'category'},
                {'name': 'reaction_1_code', 'source': 'reaction1'},
                {'name': 'reaction_1_description', 'source': 'description1'},
                {'name': 'reaction_1_severity', 'source': 'severity1'},
                {'name': 'reaction_2_code', 'source': 'reaction2'},
                {'name': 'reaction_2_description', 'source': 'description2'},
                {'name': 'reaction_2_severity', 'source': 'severity2'},
            ],
            'references': [patient_ref, encounter_ref],
        },

        'careplans': {
            'key': 'id',
            'period': ['start_date', 'stop_date'],
            'columns': [
                {'name': 'careplan_id', 'source': 'id', 'required': true},
                {'name': 'start_date', 'source': 'start', 'type': 'date', 'required': true},
                {'name': 'stop_date', 'source': 'stop', 'type': 'date'},
                {'name': 'patient_id', 'source': 'patient', 'required': true},
                {'name': 'encounter_id', 'source': 'encounter'},
                {'name': 'code', 'source': 'code', 'required': true},
                {'name': 'description', 'source': 'description'},
                {'name': 'reason_code', 'source': 'reasoncode'},
                {'name': 'reason_description', 'source': 'reasondescription'},
            ],
            'references': [patient_ref, encounter_ref],
        },

        'devices': {
            'key': none,
            'period': ['start_datetime', 'stop_datetime'],
            'columns': [
                {'name': 'start_datetime', 'source': 'start', 'type': 'timestamp', 'required': true},
                {'name': 'stop_datetime', 'source': 'stop', 'type': 'timestamp'},
                {'name': 'patient_id', 'source': 'patient', 'required': true},
                {'name': 'encounter_id', 'source': 'encounter'},
                {'name': 'code', 'source': 'code', 'required': true},
                {'name': 'description', 'source': 'description'},
                {'name': 'udi', 'source': 'udi'},
            ],
            'references': [patient_ref, encounter_ref],
        },

        'supplies': {
            'key': none,
            'columns': [
                {'name': 'supply_date', 'source': 'date', 'type': 'date', 'required': true},
                {'name': 'patient_id', 'source': 'patient', 'required': true},
                {'name': 'encounter_id', 'source': 'encounter'},
                {'name': 'code', 'source': 'code', 'required': true},
                {'name': 'description', 'source': 'description'},
                {'name': 'quantity', 'source': 'quantity', 'type': 'numeric'},
            ],
            'references': [patient_ref, encounter_ref],
        },

        'imaging_studies': {
            'key': none,
            'columns': [
                {'name': 'imaging_study_id', 'source': 'id', 'required': true},
                {'name': 'study_datetime', 'source': 'date', 'type': 'timestamp', 'required': true},
                {'name': 'patient_id', 'source': 'patient', 'required': true},
                {'name': 'encounter_id', 'source': 'encounter'},
                {'name': 'series_uid', 'source': 'series_uid'},
                {'name': 'body_site_code', 'source': 'bodysite_code'},
                {'name': 'body_site_description', 'source': 'bodysite_description'},
                {'name': 'modality_code', 'source': 'modality_code'},
                {'name': 'modality_description', 'source': 'modality_description'},
                {'name': 'instance_uid', 'source': 'instance_uid'},
                {'name': 'sop_code', 'source': 'sop_code'},
                {'name': 'sop_description', 'source': 'sop_description'},
                {'name': 'procedure_code', 'source': 'procedure_code'},
            ],
            'references': [patient_ref, encounter_ref],
        },

        'organizations': {
            'key': 'id',
            'columns': [
                {'name': 'organization_id', 'source': 'id', 'required': true},
                {'name': 'organization_name', 'source': 'name'},
                {'name': 'address', 'source': 'address'},
                {'name': 'city', 'source': 'city'},
                {'name': 'state', 'source': 'state'},
                {'name': 'zip', 'source': 'zip'},
                {'name': 'latitude', 'source': 'lat', 'type': 'double precision'},
                {'name': 'longitude', 'source': 'lon', 'type': 'double precision'},
                {'name': 'phone', 'source': 'phone'},
                {'name': 'revenue', 'source': 'revenue', 'type': 'numeric'},
                {'name': 'utilization', 'source': 'utilization', 'type': 'integer'},
            ],
            'references': [],
        },

        'providers': {
            'key': 'id',
            'columns': [
                {'name': 'provider_id', 'source': 'id', 'required': true},
                {'name': 'organization_id', 'source': 'organization', 'required': true},
                {'name': 'provider_name', 'source': 'name'},
                {'name': 'gender', 'source': 'gender'},
                {'name': 'specialty', 'source': 'speciality'},
                {'name': 'address', 'source': 'address'},
                {'name': 'city', 'source': 'city'},
                {'name': 'state', 'source': 'state'},
                {'name': 'zip', 'source': 'zip'},
                {'name': 'latitude', 'source': 'lat', 'type': 'double precision'},
                {'name': 'longitude', 'source': 'lon', 'type': 'double precision'},
                {'name': 'encounter_count', 'source': ['encounters', 'utilization'], 'type': 'integer'},
                {'name': 'procedure_count', 'source': 'procedures', 'type': 'integer'},
            ],
            'references': [
                {'column': 'organization_id', 'model': 'stg_synthea__organizations', 'key': 'organization_id', 'reason': 'orphan_organization'},
            ],
        },

        'payers': {
            'key': 'id',
            'columns': [
                {'name': 'payer_id', 'source': 'id', 'required': true},
                {'name': 'payer_name', 'source': 'name'},
                {'name': 'ownership', 'source': 'ownership'},
                {'name': 'address', 'source': 'address'},
                {'name': 'city', 'source': 'city'},
                {'name': 'state_headquartered', 'source': 'state_headquartered'},
                {'name': 'zip', 'source': 'zip'},
                {'name': 'phone', 'source': 'phone'},
                {'name': 'amount_covered', 'source': 'amount_covered', 'type': 'numeric'},
                {'name': 'amount_uncovered', 'source': 'amount_uncovered', 'type': 'numeric'},
                {'name': 'revenue', 'source': 'revenue', 'type': 'numeric'},
                {'name': 'covered_encounters', 'source': 'covered_encounters', 'type': 'integer'},
                {'name': 'uncovered_encounters', 'source': 'uncovered_encounters', 'type': 'integer'},
                {'name': 'covered_medications', 'source': 'covered_medications', 'type': 'integer'},
                {'name': 'uncovered_medications', 'source': 'uncovered_medications', 'type': 'integer'},
                {'name': 'covered_procedures', 'source': 'covered_procedures', 'type': 'integer'},
                {'name': 'uncovered_procedures', 'source': 'uncovered_procedures', 'type': 'integer'},
                {'name': 'covered_immunizations', 'source': 'covered_immunizations', 'type': 'integer'},
                {'name': 'uncovered_immunizations', 'source': 'uncovered_immunizations', 'type': 'integer'},
                {'name': 'unique_customers', 'source': 'unique_customers', 'type': 'integer'},
                {'name': 'qols_average', 'source': 'qols_avg', 'type': 'double precision'},
                {'name': 'member_months', 'source': 'member_months', 'type': 'integer'},
            ],
            'references': [],
        },

        'payer_transitions': {
            'key': none,
            'period': ['start_datetime', 'end_datetime'],
            'columns': [
                {'name': 'patient_id', 'source': 'patient', 'required': true},
                {'name': 'member_id', 'source': 'memberid'},
                {'name': 'start_datetime', 'source': ['start_date', 'start_year'], 'type': 'timestamp', 'required': true},
                {'name': 'end_datetime', 'source': ['end_date', 'end_year'], 'type': 'timestamp'},
                {'name': 'payer_id', 'source': 'payer', 'required': true},
                {'name': 'secondary_payer_id', 'source': 'secondary_payer'},
                {'name': 'plan_ownership', 'source': ['plan_ownership', 'ownership']},
                {'name': 'owner_name', 'source': ['owner_name', 'ownername']},
            ],
            'references': [patient_ref],
        },

        'claims': {
            'key': 'id',
            'columns': [
                {'name': 'claim_id', 'source': 'id', 'required': true},
                {'name': 'patient_id', 'source': 'patientid', 'required': true},
                {'name': 'provider_id', 'source': 'providerid'},
                {'name': 'primary_payer_id', 'source': 'primarypatientinsuranceid'},
                {'name': 'secondary_payer_id', 'source': 'secondarypatientinsuranceid'},
                {'name': 'department_id', 'source': 'departmentid'},
                {'name': 'patient_department_id', 'source': 'patientdepartmentid'},
                {'name': 'diagnosis_1', 'source': 'diagnosis1'},
                {'name': 'diagnosis_2', 'source': 'diagnosis2'},
                {'name': 'diagnosis_3', 'source': 'diagnosis3'},
                {'name': 'diagnosis_4', 'source': 'diagnosis4'},
                {'name': 'diagnosis_5', 'source': 'diagnosis5'},
                {'name': 'diagnosis_6', 'source': 'diagnosis6'},
                {'name': 'diagnosis_7', 'source': 'diagnosis7'},
                {'name': 'diagnosis_8', 'source': 'diagnosis8'},
                {'name': 'referring_provider_id', 'source': 'referringproviderid'},
                {'name': 'encounter_id', 'source': 'appointmentid'},
                {'name': 'current_illness_datetime', 'source': 'currentillnessdate', 'type': 'timestamp'},
                {'name': 'service_datetime', 'source': 'servicedate', 'type': 'timestamp'},
                {'name': 'supervising_provider_id', 'source': 'supervisingproviderid'},
                {'name': 'status_primary', 'source': 'status1'},
                {'name': 'status_secondary', 'source': 'status2'},
                {'name': 'status_patient', 'source': 'statusp'},
                {'name': 'outstanding_primary', 'source': 'outstanding1', 'type': 'numeric'},
                {'name': 'outstanding_secondary', 'source': 'outstanding2', 'type': 'numeric'},
                {'name': 'outstanding_patient', 'source': 'outstandingp', 'type': 'numeric'},
                {'name': 'last_billed_datetime_primary', 'source': 'lastbilleddate1', 'type': 'timestamp'},
                {'name': 'last_billed_datetime_secondary', 'source': 'lastbilleddate2', 'type': 'timestamp'},
                {'name': 'last_billed_datetime_patient', 'source': 'lastbilleddatep', 'type': 'timestamp'},
                {'name': 'claim_type_primary', 'source': 'healthcareclaimtypeid1', 'type': 'integer'},
                {'name': 'claim_type_secondary', 'source': 'healthcareclaimtypeid2', 'type': 'integer'},
            ],
            'references': [patient_ref],
        },

        'claims_transactions': {
            'key': 'id',
            'columns': [
                {'name': 'claim_transaction_id', 'source': 'id', 'required': true},
                {'name': 'claim_id', 'source': 'claimid', 'required': true},
                {'name': 'charge_id', 'source': 'chargeid', 'type': 'integer'},
                {'name': 'patient_id', 'source': 'patientid', 'required': true},
                {'name': 'transaction_type', 'source': 'type', 'required': true},
                {'name': 'amount', 'source': 'amount', 'type': 'numeric'},
                {'name': 'payment_method', 'source': 'method'},
                {'name': 'from_datetime', 'source': 'fromdate', 'type': 'timestamp'},
                {'name': 'to_datetime', 'source': 'todate', 'type': 'timestamp'},
                {'name': 'place_of_service_id', 'source': 'placeofservice'},
                {'name': 'procedure_code', 'source': 'procedurecode'},
                {'name': 'modifier_1', 'source': 'modifier1'},
                {'name': 'modifier_2', 'source': 'modifier2'},
                {'name': 'diagnosis_ref_1', 'source': 'diagnosisref1', 'type': 'integer'},
                {'name': 'diagnosis_ref_2', 'source': 'diagnosisref2', 'type': 'integer'},
                {'name': 'diagnosis_ref_3', 'source': 'diagnosisref3', 'type': 'integer'},
                {'name': 'diagnosis_ref_4', 'source': 'diagnosisref4', 'type': 'integer'},
                {'name': 'units', 'source': 'units', 'type': 'numeric'},
                {'name': 'department_id', 'source': 'departmentid'},
                {'name': 'notes', 'source': 'notes'},
                {'name': 'unit_amount', 'source': 'unitamount', 'type': 'numeric'},
                {'name': 'transfer_out_id', 'source': 'transferoutid', 'type': 'integer'},
                {'name': 'transfer_type', 'source': 'transfertype'},
                {'name': 'payments', 'source': 'payments', 'type': 'numeric'},
                {'name': 'adjustments', 'source': 'adjustments', 'type': 'numeric'},
                {'name': 'transfers', 'source': 'transfers', 'type': 'numeric'},
                {'name': 'outstanding', 'source': 'outstanding', 'type': 'numeric'},
                {'name': 'encounter_id', 'source': 'appointmentid'},
                {'name': 'line_note', 'source': 'linenote'},
                {'name': 'patient_insurance_id', 'source': 'patientinsuranceid'},
                {'name': 'fee_schedule_id', 'source': 'feescheduleid'},
                {'name': 'provider_id', 'source': 'providerid'},
                {'name': 'supervising_provider_id', 'source': 'supervisingproviderid'},
            ],
            'references': [
                patient_ref,
                {'column': 'claim_id', 'model': 'stg_synthea__claims', 'key': 'claim_id', 'reason': 'orphan_claim'},
            ],
        },

    } -%}

    {%- if name not in entities -%}
        {{ exceptions.raise_compiler_error("synthea_entity: argument `name` is '" ~ name ~ "', not a Synthea entity; expected one of " ~ synthea_entity_names() | join(', ')) }}
    {%- endif -%}
    {%- set entity = entities[name] -%}
    {%- do entity.update({'name': name}) -%}
    {{ return(entity) }}
{%- endmacro %}
