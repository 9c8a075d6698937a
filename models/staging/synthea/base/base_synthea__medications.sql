{{ staging_base_model(source_name='synthea', entity=synthea_entity('medications')) }}
