"""No raw identifier and no real date reaches the omop schema (HIPAA Safe Harbor), on the shared extracts.

The scan is ehr2omop.phi_scan. The builds are the session fixture ``built_extract`` (conftest),
shared with test_pipeline; the tests that plant leaks change the built database only inside a
transaction they roll back.
"""

from __future__ import annotations

import pytest

from ehr2omop import phi_scan


def by_place(findings: list[phi_scan.Finding]) -> dict[tuple[str, str, str], int]:
    """{(omop table, column, kind): rows}."""
    return {(f.table, f.column, f.kind): f.rows for f in findings}


def test_no_raw_identifier_or_real_date_reaches_omop(built_extract, deid_key):
    with built_extract.connect() as conn:
        findings = phi_scan.scan(conn, deid_key)
    assert findings == [], (
        f"{len(findings)} PHI leaks from raw into the omop schema ({built_extract.name}):\n"
        + phi_scan.format_findings(findings)
    )


@pytest.mark.parametrize("built_extract", ["ma-27"], indirect=True)
def test_scan_names_raw_identifiers_planted_in_omop_columns(built_extract):
    with built_extract.connect() as conn, conn.transaction(force_rollback=True):
        before = by_place(phi_scan.scan_identifiers(conn))
        patient_id, address, city, zip_code, ssn, lat = conn.execute(
            "select id, address, city, zip, ssn, lat from raw.patients"
            " where address <> '' and city <> '' and length(zip) = 5 and ssn <> '' and lat <> '' order by id limit 1"
        ).fetchone()
        # a phone delivered as bare digits, planted as written by hand
        (phone,) = conn.execute(
            "select phone from raw.organizations where phone ~ '^[0-9]{10}$' order by id"
        ).fetchone()

        def plant(table: str, column: str, value: object) -> None:
            conn.execute(
                f"update omop.{table} set {column} = %s where {table}_id = (select min({table}_id) from omop.{table})",
                (value,),
            )

        plants = [
            # inside longer text, in another case or format than delivered
            ("device_exposure", "production_id", f"Shipped to {address.upper()}, {city}", ("street_address", "city")),
            ("measurement", "value_source_value", f"ref:{patient_id.upper()}", ("record_id",)),
            ("drug_exposure", "sig", f"call ({phone[:3]}) {phone[3:6]}-{phone[6:]} if worse", ("phone",)),
            # whole values, one without its separators
            ("provider", "npi", ssn, ("ssn",)),
            ("procedure_occurrence", "modifier_source_value", patient_id.replace("-", ""), ("record_id",)),
            ("visit_occurrence", "admitted_from_source_value", zip_code, ("zip",)),
            # a number in a numeric column
            ("measurement", "value_as_number", lat, ("lat_lon",)),
            # not identifiers: a 3-digit ZIP prefix, alone and inside text
            ("visit_occurrence", "discharged_to_source_value", zip_code[:3], ()),
            ("condition_occurrence", "condition_status_source_value", f"zip3 {zip_code[:3]}", ()),
        ]
        for table, column, value, _kinds in plants:
            plant(table, column, value)
        findings = phi_scan.scan_identifiers(conn)
        after = by_place(findings)

    for table, column, _value, kinds in plants:
        assert {k for (t, c, k) in before if (t, c) == (table, column)} == set(), (
            f"omop.{table}.{column} leaked before anything was planted: plant into another column"
        )
        found = {k: rows for (t, c, k), rows in after.items() if (t, c) == (table, column)}
        assert found == dict.fromkeys(kinds, 1), (
            f"omop.{table}.{column}: expected {kinds or 'nothing'}, found {found}:\n"
            + phi_scan.format_findings(findings)
        )
    report = phi_scan.format_findings(findings).lower()
    for value in (address, patient_id, ssn, phone, lat, zip_code):
        assert value.lower() not in report, "a finding shows a PHI value in full"


# The documented de-identification of dates, done by hand (one statement each): person pseudonym
# with pgcrypto, a shift of -(person_id % 180) - 1 days per person, applied to birth, visits and death.
SIMULATE_DATE_SHIFT = (
    """
create temp table sim_person (
    person_id integer, patient_id text, birth_date date, death_date date, shift integer
) on commit drop
    """,
    """
insert into sim_person (person_id, patient_id, birth_date, death_date, shift)
select
    p.person_id,
    r.id as patient_id,
    r.birthdate::date as birth_date,
    nullif(r.deathdate, '')::date as death_date,
    -(p.person_id %% 180) - 1 as shift
from omop.person as p
inner join raw.patients as r
    on p.person_source_value in (r.id, left(encode(hmac('person:' || r.id, %(key)s, 'sha256'), 'hex'), 32))
    """,
    """
update omop.person as p
set
    person_source_value = left(encode(hmac('person:' || s.patient_id, %(key)s, 'sha256'), 'hex'), 32),
    birth_datetime = s.birth_date + s.shift,
    year_of_birth = extract(year from s.birth_date + s.shift),
    month_of_birth = extract(month from s.birth_date + s.shift),
    day_of_birth = extract(day from s.birth_date + s.shift)
from sim_person as s
where p.person_id = s.person_id
    """,
    """
with first_visit as (
    select person_id, min(visit_start_date) as first_date
    from omop.visit_occurrence
    group by person_id
),

raw_first_visit as (
    select s.person_id, min(left(e.start, 10)::date) + min(s.shift) as first_date
    from sim_person as s
    inner join raw.encounters as e on e.patient = s.patient_id
    group by s.person_id
)

update omop.visit_occurrence as v
set visit_start_date = v.visit_start_date + (r.first_date - f.first_date)
from first_visit as f
inner join raw_first_visit as r on r.person_id = f.person_id
where v.person_id = f.person_id
    """,
    """
update omop.death as d
set death_date = s.death_date + s.shift
from sim_person as s
where d.person_id = s.person_id and s.death_date is not null
    """,
)


@pytest.mark.parametrize("built_extract", ["ma-27"], indirect=True)
def test_date_check_passes_one_shift_per_person_and_names_the_persons_that_break_it(built_extract, deid_key):
    with built_extract.connect() as conn, conn.transaction(force_rollback=True):
        for statement in SIMULATE_DATE_SHIFT:
            conn.execute(statement, {"key": deid_key})
        shifted = phi_scan.scan_dates(conn, deid_key)
        persons = conn.execute("select count(*) from omop.person").fetchone()[0]
        without_key = by_place(phi_scan.scan_dates(conn, None))

        # three persons under 80, with visits, alive: each breaks the rule another way
        a, b, c = (
            row[0]
            for row in conn.execute(
                "select person_id from omop.person as p where year_of_birth > extract(year from current_date) - 80"
                " and exists (select 1 from omop.visit_occurrence as v where v.person_id = p.person_id)"
                " and not exists (select 1 from omop.death as d where d.person_id = p.person_id)"
                " order by person_id limit 3"
            )
        )
        # a: visits back on the raw dates
        conn.execute(
            "update omop.visit_occurrence set visit_start_date = visit_start_date + (person_id %% 180) + 1"
            " where person_id = %s",
            (a,),
        )
        # b: born 400 days earlier than the raw birth date, visits shifted as before
        conn.execute(
            "update omop.person set birth_datetime = birth_datetime - interval '400 days' + ((person_id %% 180) + 1)"
            " * interval '1 day' where person_id = %s",
            (b,),
        )
        conn.execute(
            "update omop.person set year_of_birth = extract(year from birth_datetime),"
            " month_of_birth = extract(month from birth_datetime), day_of_birth = extract(day from birth_datetime)"
            " where person_id = %s",
            (b,),
        )
        # c: a person_source_value no raw patient gives
        conn.execute("update omop.person set person_source_value = 'not-a-pseudonym' where person_id = %s", (c,))
        broken = by_place(phi_scan.scan_dates(conn, deid_key))

    assert shifted == [], phi_scan.format_findings(shifted)
    assert without_key == {("person", "person_source_value", "unlinked_person"): persons}
    parts = "year_of_birth, month_of_birth, day_of_birth"
    assert broken == {
        ("visit_occurrence", "visit_start_date", "unshifted_event_date"): 1,  # a
        ("person", "birth_datetime", "inconsistent_date_shift"): 2,  # a and b
        ("person", parts, "inconsistent_date_shift"): 2,
        ("person", "birth_datetime", "date_shift_out_of_range"): 1,  # b
        ("person", parts, "date_shift_out_of_range"): 1,
        ("person", "person_source_value", "unlinked_person"): 1,  # c
    }
