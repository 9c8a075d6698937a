{#-
    ehr2omop_try_cast, case by case: each row is an input text, the type it
    is cast to and the expected result as text ('<null>' for NULL). A row is
    returned, and the test fails, where the macro gives something else.
-#}
{%- set cases = {
    'date': [
        ('2023-01-27', '2023-01-27'),
        ('2023-02-30', none),
        ('2023-13-01', none),
        ('2023-01-27T16:17:47Z', '2023-01-27'),
        ('27/01/2023', none),
        ('today', none),
        ('infinity', none),
        ('', none),
        (none, none),
    ],
    'timestamp': [
        ('2023-01-27T16:17:47Z', '2023-01-27 16:17:47'),
        ('2023-01-27T18:17:47+02:00', '2023-01-27 16:17:47'),
        ('2023-01-27T11:17:47-0500', '2023-01-27 16:17:47'),
        ('2023-01-27 16:17:47', '2023-01-27 16:17:47'),
        ('2023-01-27', '2023-01-27 00:00:00'),
        ('2023-01-27T25:17:47Z', none),
        ('now', none),
        ('epoch', none),
        (none, none),
    ],
    'numeric': [
        ('77.49', '77.49'),
        ('-0.5', '-0.5'),
        ('.5', '0.5'),
        ('1e3', '1000'),
        ('12,50', none),
        ('NaN', none),
        ('Infinity', none),
        ('-Infinity', none),
        ('abc', none),
    ],
    'double precision': [
        ('42.36877442769006', '42.36877442769006'),
        ('-71.15168585038569', '-71.15168585038569'),
        ('NaN', none),
        ('inf', none),
    ],
    'integer': [
        ('174', '174'),
        ('3.5', none),
        ('99999999999', none),
        ('x', none),
    ],
} -%}

with

cases as (
    {%- for type, rows in cases.items() %}
        {%- set type_loop = loop %}
        {%- for input, expected in rows %}
            select
                '{{ type }}' as target_type,
                cast({{ "'" ~ input ~ "'" if input is not none else 'null' }} as {{ dbt.type_string() }})
                    as input_text,
                '{{ expected if expected is not none else "<null>" }}' as expected
            {%- if not (type_loop.last and loop.last) %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
),

results as (
    {%- for type in cases %}
        select
            target_type,
            input_text,
            expected,
            coalesce(cast({{ ehr2omop_try_cast('input_text', type) }} as {{ dbt.type_string() }}), '<null>')
                as actual
        from cases
        where target_type = '{{ type }}'
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select * from results
    where actual != expected
)

select * from final
