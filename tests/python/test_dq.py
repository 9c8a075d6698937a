"""DataQualityDashboard rules as dbt tests: generated from the DQD definitions, passing on the shared
extracts, and failing, by name, table, field and share, when a rule is broken on purpose.

The definitions are read here with the csv module on its own, not through the generator.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from conftest import Database

PROJECT = Path(__file__).resolve().parents[2]
MODELS_YML = PROJECT / "models/omop/_omop__models.yml"
# DQD's default tablesToExclude: the vocabulary tables
DQD_EXCLUDED = {
    "concept",
    "vocabulary",
    "concept_ancestor",
    "concept_relationship",
    "concept_class",
    "concept_synonym",
    "relationship",
    "domain",
}
# Field-level checks turned on by a Yes flag of the same name
FLAG_CHECKS = (
    "isRequired",
    "isPrimaryKey",
    "isForeignKey",
    "isStandardValidConcept",
    "measureValueCompleteness",
    "standardConceptRecordCompleteness",
    "sourceConceptRecordCompleteness",
    "sourceValueCompleteness",
    "plausibleStartBeforeEnd",
    "plausibleAfterBirth",
    "plausibleBeforeDeath",
    "withinVisitDates",
)
MALE = 8507  # the standard concept "MALE" (gender domain)


@pytest.fixture(scope="module")
def dqd_dir() -> Path:
    given = os.environ.get("EHR2OMOP_SHARED_DATA")
    path = Path(given) / ".." / "spec" / "dqd-v5.4" if given else PROJECT.parent / "shared" / "spec" / "dqd-v5.4"
    if not (path / "OMOP_CDMv5.4_Check_Descriptions.csv").is_file():
        if given:
            pytest.fail(f"EHR2OMOP_SHARED_DATA={given}: no DQD v5.4 definitions at {path}")
        pytest.skip("DQD v5.4 definitions not found (set EHR2OMOP_SHARED_DATA)")
    return path.resolve()


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def dq_tests() -> dict[str, dict]:
    """The generated DQ tests by check name: {generic, items, config}."""
    models = {m["name"]: m for m in yaml.safe_load(MODELS_YML.read_text())["models"]}
    found = {}
    for model in models.values():
        for test in model.get("data_tests", []):
            (generic, body), *_ = test.items()
            if generic.startswith("dq_"):
                args = body["arguments"]
                items = args.get("tables") or args.get("fields") or args.get("concepts")
                found[(generic, args["check_name"])] = {"name": body["name"], "items": items, "config": body["config"]}
    return found


def omop_models() -> set[str]:
    return {m["name"] for m in yaml.safe_load(MODELS_YML.read_text())["models"]}


def test_generated_tests_follow_the_dqd_definitions(dqd_dir: Path) -> None:
    checks = {r["checkName"]: r for r in read(dqd_dir / "OMOP_CDMv5.4_Check_Descriptions.csv")}
    tests = dq_tests()
    tables = omop_models() - DQD_EXCLUDED
    fields = [r for r in read(dqd_dir / "OMOP_CDMv5.4_Field_Level.csv") if r["cdmTableName"].lower() in tables]
    for check in FLAG_CHECKS:
        expected = sorted(
            (r["cdmTableName"].lower(), r["cdmFieldName"].lower(), float(r[f"{check}Threshold"] or 0))
            for r in fields
            if r[check] == "Yes"
        )
        found = sorted(
            (i["table"], i["field"], float(i["threshold"])) for i in tests[("dq_field_check", check)]["items"]
        )
        assert found == expected, check
    assert len(tests[("dq_field_check", "cdmField")]["items"]) == len(fields)
    table_rows = [r for r in read(dqd_dir / "OMOP_CDMv5.4_Table_Level.csv") if r["cdmTableName"].lower() in tables]
    expected = sorted(
        (r["cdmTableName"].lower(), float(r["measurePersonCompletenessThreshold"]))
        for r in table_rows
        if r["measurePersonCompleteness"] == "Yes"
    )
    found = [
        (i["table"], float(i["threshold"])) for i in tests[("dq_table_check", "measurePersonCompleteness")]["items"]
    ]
    assert sorted(found) == expected
    genders = [r for r in read(dqd_dir / "OMOP_CDMv5.4_Concept_Level.csv") if r["plausibleGender"]]
    assert len(tests[("dq_concept_check", "plausibleGender")]["items"]) == len(genders)
    for (_, check), test in tests.items():
        config = test["config"]
        assert config["severity"] == ("error" if checks[check]["severity"] == "fatal" else "warn"), check
        assert config["tags"] == ["dq", f"dq_{checks[check]['kahnCategory'].lower()}", f"dq_{check}"], check
        assert config["meta"]["dq_check"] == check
        assert config["meta"]["kahn_category"] == checks[check]["kahnCategory"]
        assert config["meta"]["dqd_severity"] == checks[check]["severity"]
        assert len(test["name"]) <= 63  # the stored results are a table of that name


def run_dq(database: Database, path: Path) -> tuple[int, str, dict]:
    result = database.cli("dq", "--json", str(path), check=False)
    assert path.is_file(), f"ehr2omop dq wrote no JSON:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.returncode, result.stdout, json.loads(path.read_text())


def test_dq_on_the_shared_extracts(built_extract: Database, tmp_path: Path) -> None:
    """No fatal check fails; every check is counted in its Kahn category and under its name."""
    code, stdout, report = run_dq(built_extract, tmp_path / "dq.json")
    assert code == 0, f"fatal DQ checks failed:\n{stdout[-4000:]}"
    totals = report["totals"]
    assert totals["fatal_failed"] == 0 and totals["errors"] == 0
    assert totals["checks"] == totals["pass"] + totals["fail"] + totals["not_applicable"] > 1000
    assert set(report["by_kahn_category"]) == {"Conformance", "Completeness", "Plausibility"}
    assert sum(c["checks"] for c in report["by_kahn_category"].values()) == totals["checks"]
    assert report["by_check"]["cdmTable"]["pass"] == report["by_check"]["cdmTable"]["checks"]
    assert len(report["failures"]) == totals["fail"]
    for failure in report["failures"]:
        assert failure["violated_pct"] > failure["threshold"], failure
        assert failure["dqd_severity"] != "fatal", failure
    assert "DataQualityDashboard checks by Kahn category" in stdout


def stored(database: Database, check: str) -> list[dict]:
    """The rows a DQ test stored in the last dbt run that ran it."""
    with database.connect() as conn:
        cur = conn.execute(f"select * from dq_results.dq_{check}")  # noqa: S608 - a fixed test name
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_each_broken_rule_fails_its_check(database: Database) -> None:
    """Break one rule per gate kind on a small build: each check fails, named with its table, field and share."""
    extract = database.tmp / "extract"
    database.cli("generate", "synthea", "--patients", "20", "--seed", "3", "--out", str(extract))
    database.cli("vocab", "load", "--demo")
    database.cli("load", "synthea", str(extract))
    database.dbt("build")  # green: every fatal check passes

    # not applicable, as in DQD: an empty table, a field that is all NULL
    rows = stored(database, "is_required")
    assert {r["status"] for r in rows if r["table_name"] == "note"} == {"not_applicable"}
    with database.connect() as conn:
        for row in stored(database, "is_foreign_key"):
            table, field = row["table_name"], row["field_name"]
            filled = conn.execute(f"select count({field}) from omop.{table}").fetchone()[0]  # noqa: S608
            assert (row["status"] == "not_applicable") == (filled == 0), row

    with database.connect() as conn:
        first = "select min({id}) from omop.{table}"
        condition = conn.execute(first.format(id="condition_occurrence_id", table="condition_occurrence")).fetchone()[0]
        observation = conn.execute(first.format(id="observation_id", table="observation")).fetchone()[0]
        period = conn.execute(first.format(id="observation_period_id", table="observation_period")).fetchone()[0]
        person = conn.execute(first.format(id="person_id", table="person")).fetchone()[0]
        last_person = conn.execute("select max(person_id) from omop.person").fetchone()[0]
        provider_pk = conn.execute(
            "select conname from pg_constraint where conrelid = 'omop.provider'::regclass and contype = 'p'"
        ).fetchone()[0]
        # the person with the longest span of visits dies on the day of the first one
        dead, first_visit, visit_type = conn.execute(
            """
            select person_id, min(visit_start_date), min(visit_type_concept_id)
            from omop.visit_occurrence group by person_id
            order by max(visit_start_date) - min(visit_start_date) desc, person_id limit 1
            """
        ).fetchone()
        # a man with a condition only women have, by the DQD concept list
        female_only = next(
            i["concept_id"]
            for i in dq_tests()[("dq_concept_check", "plausibleGender")]["items"]
            if i["table"] == "condition_occurrence" and i["gender"] == "Female"
        )
        man_condition = conn.execute(
            """
            select max(c.condition_occurrence_id) from omop.condition_occurrence as c
            inner join omop.person as p on c.person_id = p.person_id
            where p.gender_concept_id = %s
            """,
            (MALE,),
        ).fetchone()[0]
        assert man_condition != condition
        non_standard = conn.execute(
            "select min(concept_id) from omop.concept where concept_id <> 0 and standard_concept is null"
        ).fetchone()[0]
        measurement = conn.execute(first.format(id="measurement_id", table="measurement")).fetchone()[0]
        faults = [
            # isRequired: a NULL in a required field (the contract's NOT NULL dropped first)
            "alter table omop.condition_occurrence alter column condition_start_date drop not null",
            "update omop.condition_occurrence set condition_start_date = null"
            f" where condition_occurrence_id = {condition}",
            # isPrimaryKey: a duplicate key (the contract's primary key dropped first)
            f"alter table omop.provider drop constraint {provider_pk}",
            "insert into omop.provider select * from omop.provider order by provider_id limit 1",
            # isForeignKey: a person that does not exist
            f"update omop.observation set person_id = 2000000000 where observation_id = {observation}",
            # plausibleValueLow: born before 1850
            f"update omop.person set year_of_birth = 1800 where person_id = {person}",
            # plausibleBeforeDeath: visits long after death
            f"delete from omop.death where person_id = {dead}",
            f"insert into omop.death (person_id, death_date, death_type_concept_id)"
            f" values ({dead}, '{first_visit}', {visit_type})",
            # plausibleStartBeforeEnd: drugs that end 30 days before they start
            "update omop.drug_exposure set drug_exposure_end_date = drug_exposure_start_date - 30"
            " where drug_exposure_id in (select drug_exposure_id from omop.drug_exposure order by 1 limit 10)",
            # measureObservationPeriodOverlap: a second period over the first
            "insert into omop.observation_period select observation_period_id + 1000000000, person_id,"
            " observation_period_start_date, observation_period_end_date, period_type_concept_id"
            f" from omop.observation_period where observation_period_id = {period}",
            # measurePersonCompleteness: a person without an observation period
            f"delete from omop.observation_period where person_id = {last_person}",
            # plausibleAfterBirth: drugs before 1900, long before anyone's birth
            "update omop.drug_exposure set drug_exposure_start_date = date '1899-01-01' where drug_exposure_id in"
            " (select drug_exposure_id from omop.drug_exposure order by 1 desc limit 10)",
            # fkDomain: a type concept field holding a gender concept
            f"update omop.observation set observation_type_concept_id = {MALE} where observation_id = {observation}",
            # isStandardValidConcept: a non-standard concept in a standard concept field
            f"update omop.measurement set measurement_concept_id = {non_standard} where measurement_id = {measurement}",
            # plausibleGender: a female-only condition for a man
            f"update omop.condition_occurrence set condition_concept_id = {female_only}"
            f" where condition_occurrence_id = {man_condition}",
        ]
        for statement in faults:
            conn.execute(statement)

    expected = [
        # check, table, field (None: table level), concept, fatal
        ("isRequired", "condition_occurrence", "condition_start_date", None, True),
        ("isPrimaryKey", "provider", "provider_id", None, True),
        ("isForeignKey", "observation", "person_id", None, True),
        ("measureObservationPeriodOverlap", "observation_period", None, None, True),
        ("plausibleValueLow", "person", "year_of_birth", None, False),
        ("plausibleBeforeDeath", "visit_occurrence", "visit_start_date", None, False),
        ("plausibleStartBeforeEnd", "drug_exposure", "drug_exposure_start_date", None, False),
        ("measurePersonCompleteness", "observation_period", None, None, False),
        ("plausibleGender", "condition_occurrence", "condition_concept_id", female_only, False),
        ("plausibleAfterBirth", "drug_exposure", "drug_exposure_start_date", None, False),
        ("fkDomain", "observation", "observation_type_concept_id", None, False),
        ("isStandardValidConcept", "measurement", "measurement_concept_id", None, False),
    ]
    # none of them failed before the faults (the build stored every check's result)
    for check, table, field, concept, _ in expected:
        name = ("concept_" if concept else "") + "".join(f"_{c.lower()}" if c.isupper() else c for c in check)
        before = [
            r
            for r in stored(database, name)
            if r["table_name"] == table and r["field_name"] == field and (concept is None or r["concept_id"] == concept)
        ]
        assert before and all(r["status"] != "fail" for r in before), (check, table, field, before)

    code, stdout, report = run_dq(database, database.tmp / "dq.json")
    assert code == 1, "a failing fatal check must make `ehr2omop dq` exit 1"
    failures = report["failures"]
    for check, table, field, concept, fatal in expected:
        hits = [
            f
            for f in failures
            if (f["check_name"], f["table_name"], f["field_name"]) == (check, table, field)
            and (concept is None or f["concept_id"] == concept)
        ]
        assert len(hits) == 1, f"{check} on {table}.{field} did not fail: {[f['check_name'] for f in failures]}"
        hit = hits[0]
        assert hit["violated_rows"] > 0 and hit["denominator_rows"] >= hit["violated_rows"], hit
        assert hit["violated_pct"] == pytest.approx(100 * hit["violated_rows"] / hit["denominator_rows"])
        assert hit["violated_pct"] > hit["threshold"], hit
        assert (hit["dqd_severity"] == "fatal") == fatal, hit
        assert check in stdout and table in stdout, f"{check} on {table} is not in the printed report"
    exact = {(f["check_name"], f["table_name"], f["field_name"]): f for f in failures}
    assert exact[("isRequired", "condition_occurrence", "condition_start_date")]["violated_rows"] == 1
    assert exact[("isPrimaryKey", "provider", "provider_id")]["violated_rows"] == 2
    assert exact[("measureObservationPeriodOverlap", "observation_period", None)]["violated_rows"] == 2
    assert report["totals"]["fatal_failed"] >= 4
    # dbt itself: the fatal checks fail (error level), the others warn
    assert re.search(r"FAIL \d+ dq_is_required ", stdout), stdout[-3000:]
    assert re.search(r"WARN \d+ dq_plausible_value_low ", stdout), stdout[-3000:]


def test_no_dqd_prose_in_what_we_write(dqd_dir: Path) -> None:
    """Facts come from the definitions; the wording is ours: no DQD check description is pasted."""
    fragments = set()
    for row in read(dqd_dir / "OMOP_CDMv5.4_Check_Descriptions.csv"):
        for part in re.split(r"@\w+", row["checkDescription"]):
            part = " ".join(part.split()).lower()
            if len(part) > 30:
                fragments.add(part)
    assert len(fragments) > 20
    files = [
        MODELS_YML,
        PROJECT / "macros/omop/dq_check_catalog.sql",
        PROJECT / "macros/tests/dq_checks.sql",
        PROJECT / "macros/tests/_tests__macros.yml",
        PROJECT / "scripts/ehr2omop/dqdgen.py",
        PROJECT / "scripts/ehr2omop/dq.py",
        PROJECT / "README.md",
    ]
    for path in files:
        text = " ".join(path.read_text(encoding="utf-8").split()).lower()
        copied = sorted(f for f in fragments if f in text)
        assert not copied, f"{path.relative_to(PROJECT)} copies DQD's prose: {copied[0]!r}"
