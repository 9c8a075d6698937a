{#-
    The de-identification rules, one macro each. Each returns a SQL expression.
    The boundary models (models/mapped/deid/) apply them to every PHI-tagged staging
    column (deid_staging_model); unit tests in models/mapped/deid/_deid__unit_tests.yml
    show each rule as a table of inputs and outputs.
-#}

{#- 'safe_harbor' (default) or 'limited_dataset'; anything else fails naming the var. -#}
{% macro deid_mode() -%}
    {%- set mode = var('deid_mode', 'safe_harbor') -%}
    {%- if mode not in ['safe_harbor', 'limited_dataset'] -%}
        {{ exceptions.raise_compiler_error(
            "var deid_mode is '" ~ mode ~ "': set it to safe_harbor (default) or limited_dataset"
        ) }}
    {%- endif -%}
    {{- return(mode) -}}
{%- endmacro %}


{#-
    Keyed pseudonym of an identifier: the first 32 hex digits (128 bits) of
    HMAC-SHA-256(key, '<id_space>:<value>'). The id space keeps equal values of
    different kinds apart (a patient and an encounter never share a pseudonym).
    NULL stays NULL. Never a bare hash: without the key nobody can recompute it.
-#}
{% macro deid_pseudonym(value, id_space) -%}
    {%- if value is none or id_space is none or id_space | trim == '' -%}
        {{ exceptions.raise_compiler_error("deid_pseudonym: value and id_space are required") }}
    {%- endif -%}
    {{- return(adapter.dispatch('deid_pseudonym', 'ehr2omop')(value, id_space)) -}}
{%- endmacro %}

{% macro default__deid_pseudonym(value, id_space) -%}
    left(encode(hmac(
        {{ dbt.concat(["'" ~ id_space ~ ":'", value]) }},
        {{ deid_key() }},
        'sha256'
    ), 'hex'), 32)
{%- endmacro %}


{#-
    A person's date shift in days: uniform over [deid_date_shift_min_days,
    deid_date_shift_max_days] (default -180..-1), from HMAC(key, 'date_shift:<person>'):
    its own id space, so the pseudonym does not reveal the shift. 0 in limited_dataset.
-#}
{% macro deid_date_shift_days(person_value) -%}
    {%- if person_value is none -%}
        {{ exceptions.raise_compiler_error("deid_date_shift_days: person_value is required") }}
    {%- endif -%}
    {%- set low = var('deid_date_shift_min_days', -180) | int -%}
    {%- set high = var('deid_date_shift_max_days', -1) | int -%}
    {%- if low > high or high > -1 -%}
        {{ exceptions.raise_compiler_error(
            "vars deid_date_shift_min_days/deid_date_shift_max_days are " ~ low ~ "/" ~ high
            ~ ": set min <= max <= -1 (shifts go back in time, so no date lands in the future)"
        ) }}
    {%- endif -%}
    {%- if deid_mode() == 'limited_dataset' -%}
        {{- return('0') -}}
    {%- endif -%}
    {{- return(adapter.dispatch('deid_date_shift_days', 'ehr2omop')(person_value, low, high)) -}}
{%- endmacro %}

{% macro default__deid_date_shift_days(person_value, low, high) -%}
    cast({{ low }} + mod(
        ('x' || left(encode(hmac({{ dbt.concat(["'date_shift:'", person_value]) }}, {{ deid_key() }}, 'sha256'), 'hex'), 8))
        ::bit(32)::bigint,
        {{ high - low + 1 }}
    ) as integer)
{%- endmacro %}


{#- The published description of the shift range: '-180..-1', or '0' in limited_dataset. -#}
{% macro deid_date_shift_range() -%}
    {%- if deid_mode() == 'limited_dataset' -%}
        {{- return('0') -}}
    {%- endif -%}
    {{- return(var('deid_date_shift_min_days', -180) ~ '..' ~ var('deid_date_shift_max_days', -1)) -}}
{%- endmacro %}


{#- A date or timestamp moved by shift_days days, keeping its type. -#}
{% macro deid_shift_date(value, shift_days, data_type='date') -%}
    {%- if value is none or shift_days is none -%}
        {{ exceptions.raise_compiler_error("deid_shift_date: value and shift_days are required") }}
    {%- endif -%}
    {%- if data_type not in ['date', 'timestamp'] -%}
        {{ exceptions.raise_compiler_error("deid_shift_date: data_type is '" ~ data_type ~ "': use date or timestamp") }}
    {%- endif -%}
    cast({{ dbt.dateadd('day', shift_days, value) }} as {{ 'date' if data_type == 'date' else dbt.type_timestamp() }})
{%- endmacro %}


{#-
    ZIP code: the first three digits, or '000' for the three-digit areas of fewer than
    20,000 people (seed deid_restricted_zip3). A ZIP that lost its leading zeros (read as
    a number: 2118 for 02118) is padded first; ZIP+4 is cut to five digits; anything
    that is not a ZIP gives NULL. limited_dataset keeps the five digits.
-#}
{% macro deid_zip(value) -%}
    {%- if value is none -%}
        {{ exceptions.raise_compiler_error("deid_zip: value is required") }}
    {%- endif -%}
    {%- set five -%}
        case
            when trim({{ value }}) ~ '^[0-9]{3,5}(-[0-9]{4})?$'
                then lpad(split_part(trim({{ value }}), '-', 1), 5, '0')
        end
    {%- endset -%}
    {%- if deid_mode() == 'limited_dataset' -%}
        {{- five -}}
    {%- else -%}
        case
            when ({{ five }}) is null then null
            when left({{ five }}, 3) in (select zip3 from {{ ref('deid_restricted_zip3') }}) then '000'
            else left({{ five }}, 3)
        end
    {%- endif -%}
{%- endmacro %}


{#-
    Birth date of a person as published: shifted; in safe_harbor a person aged 90 or
    more on the reference date (death, else var deid_age_reference_date, else today)
    is put into one 90+ category: born exactly 90 years before the shifted reference,
    so nobody appears older than 90 and the dates stay consistent with the shift.
-#}
{% macro deid_birth_date(birth_date, death_date, shift_days) -%}
    case
        when {{ deid_is_age_aggregated(birth_date, death_date) }}
            then cast(
                {{ dbt.dateadd('day', shift_days, deid_age_reference(death_date)) }} - interval '90 years'
                as date
            )
        else {{ deid_shift_date(birth_date, shift_days) }}
    end
{%- endmacro %}


{#- True when the person is 90 or older on the reference date (always false in limited_dataset). -#}
{% macro deid_is_age_aggregated(birth_date, death_date) -%}
    {%- if deid_mode() == 'limited_dataset' -%}
        false
    {%- else -%}
        coalesce({{ birth_date }} <= {{ deid_age_reference(death_date) }} - interval '90 years', false)
    {%- endif -%}
{%- endmacro %}


{% macro deid_age_reference(death_date) -%}
    {%- set reference = var('deid_age_reference_date', none) -%}
    coalesce({{ death_date }}, {{ "cast('" ~ reference ~ "' as date)" if reference else 'current_date' }})
{%- endmacro %}
