"""De-identification on a real build: the key, pseudonyms, date shifts, the PHI lineage gate."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from datetime import date, timedelta

import pytest
from conftest import PROJECT, copy_project

KEY_A = "a" * 16 + "0123456789abcdef0123456789abcdef"
KEY_B = "b" * 16 + "0123456789abcdef0123456789abcdef"


def pseudonym(key: str, space: str, value: str) -> str:
    """The documented formula: first 32 hex digits of HMAC-SHA-256(key, '<space>:<value>')."""
    return hmac.new(key.encode(), f"{space}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def shift_days(key: str, patient_id: str, low: int = -180, high: int = -1) -> int:
    digest = hmac.new(key.encode(), f"date_shift:{patient_id}".encode(), hashlib.sha256).hexdigest()
    return low + int(digest[:8], 16) % (high - low + 1)


@pytest.fixture
def small_build(database, tmp_path):
    """30 generated patients loaded (not built) into a fresh database, demo vocabulary."""
    extract = tmp_path / "extract"
    database.cli("generate", "synthea", "--patients", "30", "--seed", "7", "--out", str(extract))
    database.cli("vocab", "load", "--demo")
    database.cli("load", "synthea", str(extract))
    return database


def persons(database) -> dict[str, tuple[int, date | None]]:
    """person_source_value -> (year_of_birth, birth_datetime date)."""
    with database.connect() as conn:
        rows = conn.execute("select person_source_value, year_of_birth, birth_datetime from omop.person").fetchall()
    return {r[0]: (r[1], r[2].date() if r[2] else None) for r in rows}


def test_pseudonyms_and_shifts_follow_the_key(small_build):
    db = small_build
    with db.connect() as conn:
        patients = conn.execute("select id, birthdate, deathdate from raw.patients").fetchall()

    db.extra_env["EHR2OMOP_DEID_KEY"] = KEY_A
    db.dbt("build")
    first = persons(db)
    expected = {pseudonym(KEY_A, "person", pid): (pid, birth) for pid, birth, _ in patients}
    # every person is the keyed pseudonym of one patient, and no raw id is published
    assert set(first) == set(expected)
    assert not set(first) & {pid for pid, _, _ in patients}
    checked = 0
    for key, (pid, birth) in expected.items():
        year, birth_date = first[key]
        if birth_date is None:  # the 90+ category publishes the year only
            assert date.fromisoformat(birth) <= date.today() - timedelta(days=89 * 365)
            continue
        shift = shift_days(KEY_A, pid)
        assert -180 <= shift <= -1
        assert birth_date == date.fromisoformat(birth) + timedelta(days=shift), pid
        checked += 1
    assert checked >= 25
    # the published range, never an offset
    with db.connect() as conn:
        facts = dict(conn.execute("select name, value_as_string from omop.metadata").fetchall())
    assert facts["de-identification mode"] == "safe_harbor"
    assert facts["date shift range days"] == "-180..-1"
    # the same key again: the same pseudonyms and dates
    db.dbt("build")
    assert persons(db) == first

    # intervals stay exact: a visit's offset from birth is the raw one
    with db.connect() as conn:
        raw_gap = conn.execute(
            "select min(e.start::timestamp::date - p.birthdate::date) from raw.encounters e"
            " join raw.patients p on p.id = e.patient"
        ).fetchone()[0]
        omop_gap = conn.execute(
            "select min(v.visit_start_date - p.birth_datetime::date) from omop.visit_occurrence v"
            " join omop.person p using (person_id) where p.birth_datetime is not null"
        ).fetchone()[0]
    assert omop_gap == raw_gap

    # a new key: new pseudonyms for everyone
    db.extra_env["EHR2OMOP_DEID_KEY"] = KEY_B
    db.dbt("build")
    second = persons(db)
    assert set(second) == {pseudonym(KEY_B, "person", pid) for pid, _, _ in patients}
    assert not set(second) & set(first)


def test_key_is_required_outside_demo_and_never_written_down(small_build):
    db = small_build
    not_demo = ["--vars", "{deid_demo_targets: []}"]
    db.extra_env["EHR2OMOP_DEID_KEY"] = ""
    missing = db.dbt("build", *not_demo, check=False)
    assert missing.returncode != 0
    assert "EHR2OMOP_DEID_KEY is not set" in missing.stdout
    assert db.scalar("select to_regclass('omop.person')") is None  # failed before building anything

    db.extra_env["EHR2OMOP_DEID_KEY"] = "short"
    short = db.dbt("build", *not_demo, check=False)
    assert short.returncode != 0 and "EHR2OMOP_DEID_KEY is too short" in short.stdout

    db.extra_env["EHR2OMOP_DEID_KEY"] = KEY_A
    db.dbt("build", *not_demo)
    assert db.scalar("select count(*) from omop.person") == 30
    # the key is in no artifact, no log, no compiled SQL, and not left in the database
    for path in db.tmp.rglob("*"):
        if path.is_file():
            assert KEY_A not in path.read_text(errors="replace"), path
    assert db.scalar("select count(*) from deid_vault.run_key") == 0


def test_demo_target_runs_without_a_key_and_remembers_its_own(small_build):
    db = small_build
    db.extra_env["EHR2OMOP_DEID_KEY"] = ""
    db.dbt("seed")
    db.dbt("run")
    first = persons(db)
    assert len(first) == 30
    db.dbt("run")
    assert persons(db) == first  # the demo key stays in the demo database
    assert db.scalar("select count(*) from deid_vault.run_key") == 1


def test_lineage_gate_fails_a_build_that_wires_phi_into_omop(database, tmp_path):
    project = copy_project(tmp_path)
    # a PHI column straight from staging into an omop model
    (project / "models/omop/leaky_names.sql").write_text(
        "select\n    patient_id,\n    first_name\nfrom {{ ref('stg_synthea__patients') }}\n"
    )
    # a mapped model that takes every column of a tagged staging model
    (project / "models/mapped/mapped_everything.sql").write_text(
        "with\n\nstg_synthea__providers as (\n    select * from {{ ref('stg_synthea__providers') }}\n),\n\n"
        "final as (\n    select * from stg_synthea__providers\n)\n\nselect * from final\n"
    )
    # reading a column inside a deid macro is allowed, and comments do not count
    (project / "models/mapped/mapped_keyed.sql").write_text(
        "-- first_name is not read here\n"
        "select {{ deid_pseudonym('patient_id', 'person') }} as person_key\n"
        "from {{ ref('stg_synthea__patients') }}\n"
    )
    result = database.dbt("build", "-s", "leaky_names", check=False, project=project)
    output = result.stdout
    assert result.returncode != 0
    assert "PHI lineage gate" in output
    assert "stg_synthea__patients.first_name (phi: name): stg_synthea__patients -> leaky_names" in output
    assert "stg_synthea__patients.patient_id (phi: mrn): stg_synthea__patients -> leaky_names" in output
    assert (
        "stg_synthea__providers.provider_name (phi: name) via select *: stg_synthea__providers -> mapped_everything"
        in output
    )
    assert "mapped_keyed" not in output
    # nothing was built: the gate runs before any model
    assert database.scalar("select to_regclass('omop.leaky_names')") is None

    # the same project without the leaks passes the gate
    (project / "models/omop/leaky_names.sql").unlink()
    (project / "models/mapped/mapped_everything.sql").unlink()
    clean = database.dbt("seed", "-s", "deid_restricted_zip3", check=False, project=project)
    assert clean.returncode == 0, clean.stdout[-3000:]
    assert "PHI lineage gate" not in clean.stdout


def test_deid_column_spec_is_current():
    """macros/deid/deid_column_spec.sql is what deidgen makes from the staging YAML now."""
    result = subprocess.run(
        [sys.executable, "-m", "ehr2omop.deidgen", "--check"], capture_output=True, text=True, cwd=PROJECT
    )
    assert result.returncode == 0, result.stderr


def test_records_equal_after_deid_keep_their_own_rows(small_build, tmp_path):
    """Two devices that differ only in the UDI the boundary drops stay two OMOP rows with their own ids.

    Found at 100,000 generated patients: both got one event key, so device_exposure's primary key failed.
    """
    database = small_build
    extract = tmp_path / "extract"
    devices = extract / "devices.csv"
    header, first, *_ = devices.read_text().splitlines()
    fields = first.split(",")
    assert header.split(",")[-1] == "UDI" and fields[-1].startswith("(01)")
    twin = ",".join([*fields[:-1], "(01)99999999999999(21)twin"])
    with devices.open("a") as out:
        out.write(twin + "\n")
    database.cli("load", "synthea", str(extract), "--batch-id", "with-twin")
    # seeds and models (the primary key of device_exposure is in its contract); tests need the other tables
    database.dbt(
        "build", "-s", "+device_exposure", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"
    )

    with database.connect() as conn:
        keys = [
            row[0]
            for row in conn.execute(
                "select event_key from mapped.mapped_clinical_events"
                " where source_entity = 'devices' and source_code = %s order by event_key",
                (fields[4],),
            )
        ]
        repeats = [k for k in keys if k.count(":") == 2]
        assert len(repeats) == 1 and repeats[0].endswith(":2") and repeats[0].rsplit(":", 1)[0] in keys
        written = conn.execute(
            "select ids.source_key, d.device_exposure_id from omop.device_exposure as d"
            " inner join mapped.device_exposure_ids as ids on d.device_exposure_id = ids.id"
            " where split_part(ids.source_key, '|', 1) in (%s, %s)",
            (repeats[0], repeats[0].rsplit(":", 1)[0]),
        ).fetchall()
        assert len(written) == 2 and len({row[1] for row in written}) == 2
        # the UDI itself never reaches omop
        assert (
            conn.execute("select count(*) from omop.device_exposure where unique_device_id like '(01)%'").fetchone()[0]
            == 0
        )
