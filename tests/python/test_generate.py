"""The Synthea-format generator: repeatable, right headers, coherent dates, known codes, noise at the asked rate.

Also checks the demo vocabulary the generator draws its codes from. Plain files only: no database.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from pathlib import Path

import pytest

from ehr2omop.errors import UserError
from ehr2omop.generate import (
    EXTRACT_DATE,
    LOCAL_CODE_TABLES,
    LOCAL_CODES,
    UNMAPPED_CODE_TABLES,
    UNMAPPED_CODES,
    generate_synthea,
    split_follow_up,
)
from ehr2omop.synthea import ENTITIES

PROJECT = Path(__file__).resolve().parents[2]
VOCAB = PROJECT / "scripts" / "ehr2omop" / "demo_vocabulary"
SEED_FILE = PROJECT / "seeds" / "demo_source_to_concept_map.csv"
PATIENTS = 200
END_OF_DATA = EXTRACT_DATE.isoformat()

Rows = list[dict[str, str]]


def generate(folder: Path, seed: int = 11, version: str = "3.3", **shares: float) -> dict[str, int]:
    return generate_synthea(folder, patients=PATIENTS, seed=seed, version=version, **shares)


def read(folder: Path, name: str) -> Rows:
    with (folder / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.csv"))}


@pytest.fixture(scope="module", params=["3.3", "3.0"])
def extract(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp(f"synthea-{request.param}")
    generate(folder, version=request.param)
    return request.param, folder


@pytest.fixture(scope="module")
def tables(extract: tuple[str, Path]) -> dict[str, Rows]:
    return {name: read(extract[1], name) for name in ENTITIES}


# --- repeatable ------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path):
    counts = generate(tmp_path / "a", seed=5)
    generate(tmp_path / "b", seed=5)
    generate(tmp_path / "c", seed=6)
    first, again, other = digests(tmp_path / "a"), digests(tmp_path / "b"), digests(tmp_path / "c")
    assert len(first) == len(ENTITIES) == 18
    assert first == again
    assert [name for name in first if first[name] == other[name]] == []
    assert counts["patients.csv"] == PATIENTS
    assert sorted(counts) == sorted(f"{name}.csv" for name in ENTITIES)


def test_progress_is_reported_and_a_failure_leaves_no_files(tmp_path):
    seen: list[int] = []
    generate_synthea(tmp_path / "ok", patients=50, seed=1, progress=seen.append)
    assert seen == [50]

    def explode(done: int) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        generate_synthea(tmp_path / "broken", patients=50, seed=1, progress=explode)
    assert list((tmp_path / "broken").iterdir()) == []


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="version"):
        generate_synthea(tmp_path, patients=1, seed=1, version="2.7")
    with pytest.raises(ValueError, match="unmapped_share"):
        generate_synthea(tmp_path, patients=1, seed=1, unmapped_share=1.5)


# --- layout ------------------------------------------------------------------------------------


def test_every_file_has_the_exact_header_of_its_version(extract):
    version, folder = extract
    for name, entity in ENTITIES.items():
        expected = list(entity.v3_0 if version == "3.0" else entity.v3_3)
        with (folder / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == expected, name
        assert len(rows) > 1, f"{name} is empty"
        widths = Counter(len(row) for row in rows[1:])
        assert widths == Counter({len(expected): len(rows) - 1}), name


def test_formats_follow_synthea(tables):
    patient = tables["patients"][0]
    assert len(patient["BIRTHDATE"]) == 10 and patient["SSN"].startswith("999-")
    assert any(ch.isdigit() for ch in patient["FIRST"]) and any(ch.isdigit() for ch in patient["LAST"])
    encounter = tables["encounters"][0]
    assert len(encounter["START"]) == 20 and encounter["START"].endswith("Z") and encounter["START"][10] == "T"
    assert len(tables["conditions"][0]["START"]) == 10
    zips = {row["ZIP"][:3] for row in tables["patients"]}
    assert zips & {"036", "059", "102"}, "no patient in a restricted ZIP3 area"
    deceased = sum(1 for row in tables["patients"] if row["DEATHDATE"])
    assert 0.04 * PATIENTS <= deceased <= 0.2 * PATIENTS
    per_patient = len(tables["encounters"]) / PATIENTS
    assert 10 <= per_patient <= 40


# --- dates -------------------------------------------------------------------------------------

# Date or timestamp columns of each file, and the column holding the patient id.
DATE_COLUMNS = {
    "encounters": ("PATIENT", ("START", "STOP")),
    "conditions": ("PATIENT", ("START", "STOP")),
    "medications": ("PATIENT", ("START", "STOP")),
    "observations": ("PATIENT", ("DATE",)),
    "procedures": ("PATIENT", ("START", "STOP")),
    "immunizations": ("PATIENT", ("DATE",)),
    "allergies": ("PATIENT", ("START", "STOP")),
    "careplans": ("PATIENT", ("START", "STOP")),
    "devices": ("PATIENT", ("START", "STOP")),
    "supplies": ("PATIENT", ("DATE",)),
    "imaging_studies": ("PATIENT", ("DATE",)),
    "claims": ("PATIENTID", ("CURRENTILLNESSDATE", "SERVICEDATE", "LASTBILLEDDATE1")),
    "claims_transactions": ("PATIENTID", ("FROMDATE", "TODATE")),
    "payer_transitions": ("PATIENT", ("START_DATE", "END_DATE", "START_YEAR", "END_YEAR")),
}


def test_no_event_before_birth_or_after_death(tables):
    life = {row["Id"]: (row["BIRTHDATE"], row["DEATHDATE"] or END_OF_DATA) for row in tables["patients"]}
    checked = 0
    for name, (patient_col, columns) in DATE_COLUMNS.items():
        for row in tables[name]:
            born, gone = life[row[patient_col]]
            for col in columns:
                day = row.get(col, "")[:10]
                if day:
                    checked += 1
                    assert born <= day <= gone, f"{name}.{col}={day} outside {born}..{gone}"
    assert checked > 10_000


# Events tied to an encounter: their start column, and an end column that must also fall inside.
EVENT_COLUMNS = {
    "conditions": ("START", None),
    "medications": ("START", None),
    "observations": ("DATE", None),
    "procedures": ("START", "STOP"),
    "immunizations": ("DATE", None),
    "allergies": ("START", None),
    "careplans": ("START", None),
    "devices": ("START", None),
    "supplies": ("DATE", None),
    "imaging_studies": ("DATE", None),
}


def within(value: str, start: str, stop: str) -> bool:
    if len(value) == 10:  # a date: compare with the encounter's days
        return start[:10] <= value <= stop[:10]
    return start <= value <= stop


def test_events_fall_within_their_encounter(tables):
    encounters = {row["Id"]: row for row in tables["encounters"]}
    for enc in encounters.values():
        assert enc["START"] <= enc["STOP"], enc["Id"]
    inpatient = [e for e in encounters.values() if e["ENCOUNTERCLASS"] == "inpatient"]
    multi_day = [e for e in inpatient if e["STOP"][:10] > e["START"][:10]]
    assert inpatient and len(multi_day) >= 0.9 * len(inpatient)
    for name, (start_col, stop_col) in EVENT_COLUMNS.items():
        for row in tables[name]:
            enc = encounters[row["ENCOUNTER"]]
            assert row["PATIENT"] == enc["PATIENT"], name
            assert within(row[start_col], enc["START"], enc["STOP"]), f"{name} {row[start_col]} outside {enc['Id']}"
            if stop_col:
                assert within(row[stop_col], enc["START"], enc["STOP"]), f"{name} stop outside {enc['Id']}"
            stop = row.get("STOP", "")
            if stop:
                assert stop[: len(row[start_col])] >= row[start_col][: len(stop)], f"{name} stops before it starts"
    claims = {row["APPOINTMENTID"]: row for row in tables["claims"]}
    assert set(claims) == set(encounters), "one claim per encounter"


# --- codes -------------------------------------------------------------------------------------


def vocabulary_codes() -> dict[str, set[str]]:
    codes: dict[str, set[str]] = {}
    with (VOCAB / "CONCEPT.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            codes.setdefault(row["vocabulary_id"], set()).add(row["concept_code"])
    return codes


def seed_rows() -> Rows:
    with SEED_FILE.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# Coded columns and the vocabularies their codes must come from.
CODE_COLUMNS = {
    ("encounters", "CODE"): ("SNOMED",),
    ("encounters", "REASONCODE"): ("SNOMED", "ICD10CM"),
    ("conditions", "CODE"): ("SNOMED", "ICD10CM"),
    ("medications", "CODE"): ("RxNorm",),
    ("medications", "REASONCODE"): ("SNOMED", "ICD10CM"),
    ("observations", "CODE"): ("LOINC",),
    ("observations", "UNITS"): ("UCUM",),
    ("procedures", "CODE"): ("SNOMED",),
    ("procedures", "REASONCODE"): ("SNOMED", "ICD10CM"),
    ("immunizations", "CODE"): ("CVX",),
    ("allergies", "CODE"): ("SNOMED", "RxNorm"),
    ("allergies", "REACTION1"): ("SNOMED",),
    ("allergies", "REACTION2"): ("SNOMED",),
    ("careplans", "CODE"): ("SNOMED",),
    ("careplans", "REASONCODE"): ("SNOMED", "ICD10CM"),
    ("devices", "CODE"): ("SNOMED",),
    ("supplies", "CODE"): ("SNOMED",),
    ("imaging_studies", "PROCEDURE_CODE"): ("SNOMED",),
    **{("claims", f"DIAGNOSIS{i}"): ("SNOMED", "ICD10CM") for i in range(1, 9)},
    ("claims_transactions", "PROCEDURECODE"): ("SNOMED", "CVX"),
}
# Synthea's score unit has no UCUM concept in the vocabulary; it is written as Synthea writes it.
ALLOWED_OTHER = {("observations", "UNITS"): {"", "{score}"}}


def test_codes_are_in_the_vocabulary_or_deliberately_local_or_unmapped(tables):
    vocab = vocabulary_codes()
    local = {c.code for c in LOCAL_CODES}
    unmapped = {code for code, _desc in UNMAPPED_CODES.values()}
    seen_local: set[str] = set()
    seen_unmapped: set[str] = set()
    for (name, col), vocabularies in CODE_COLUMNS.items():
        known = set().union(*(vocab[v] for v in vocabularies)) | ALLOWED_OTHER.get((name, col), {""})
        for row in tables[name]:
            code = row.get(col)
            if code is None or code in known:
                continue
            if code in local:
                seen_local.add(code)
            elif code in unmapped:
                seen_unmapped.add(code)
            else:
                pytest.fail(f"{name}.{col} holds {code!r}: not in {vocabularies}, not local, not a deliberate gap")
    assert seen_local == local
    assert seen_unmapped == unmapped


def test_condition_system_names_the_vocabulary_of_the_code(extract, tables):
    version, _folder = extract
    vocab = vocabulary_codes()
    noise = {c.code for c in LOCAL_CODES} | {code for code, _desc in UNMAPPED_CODES.values()}
    systems = Counter()
    for row in tables["conditions"]:
        code = row["CODE"]
        vocabulary = "LOCAL" if code in noise else "ICD10" if code in vocab["ICD10CM"] else "SNOMED-CT"
        systems[vocabulary] += 1
        if version == "3.3":
            assert row["SYSTEM"] == vocabulary, row
    if version == "3.0":  # no SYSTEM column to tell a reader the code is not SNOMED
        assert systems["ICD10"] == 0
    else:
        assert systems["ICD10"] > 0 and systems["LOCAL"] > 0


def test_local_codes_match_the_seed_and_map_to_standard_concepts():
    seed = seed_rows()
    expected_header = (
        "source_code,source_concept_id,source_vocabulary_id,source_code_description,target_concept_id,"
        "target_vocabulary_id,valid_start_date,valid_end_date,invalid_reason"
    )
    assert SEED_FILE.read_text(encoding="utf-8").splitlines()[0] == expected_header
    assert [(r["source_code"], r["source_code_description"]) for r in seed] == [
        (c.code, c.description) for c in LOCAL_CODES
    ]
    with (VOCAB / "CONCEPT.csv").open(newline="", encoding="utf-8") as fh:
        concepts = {r["concept_id"]: r for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)}
    for row in seed:
        target = concepts[row["target_concept_id"]]
        assert target["standard_concept"] == "S" and target["vocabulary_id"] == row["target_vocabulary_id"]
        assert row["source_concept_id"] == "0" and row["valid_end_date"] == "2099-12-31"
        assert row["invalid_reason"] == ""
        assert row["source_code"] not in {c["concept_code"] for c in concepts.values()}


def noise_shares(tables: dict[str, Rows]) -> tuple[float, float]:
    local = {c.code for c in LOCAL_CODES}
    unmapped = {code for code, _desc in UNMAPPED_CODES.values()}
    local_rows = [row["CODE"] for name in LOCAL_CODE_TABLES for row in tables[name]]
    unmapped_rows = [row["CODE"] for name in UNMAPPED_CODE_TABLES for row in tables[name]]
    return (
        sum(code in local for code in local_rows) / len(local_rows),
        sum(code in unmapped for code in unmapped_rows) / len(unmapped_rows),
    )


def test_default_noise_shares_are_near_the_requested_ones(tables):
    local, unmapped = noise_shares(tables)
    assert local == pytest.approx(0.03, abs=0.008)
    assert unmapped == pytest.approx(0.02, abs=0.006)


def test_noise_shares_follow_the_arguments(tmp_path):
    generate(tmp_path, local_code_share=0.10, unmapped_share=0.0)
    local, unmapped = noise_shares({name: read(tmp_path, name) for name in ENTITIES})
    assert local == pytest.approx(0.10, abs=0.015)
    assert unmapped == 0.0


# --- the demo vocabulary ---------------------------------------------------------------------------

ATHENA_HEADERS = {
    "CONCEPT": "concept_id concept_name domain_id vocabulary_id concept_class_id standard_concept concept_code "
    "valid_start_date valid_end_date invalid_reason",
    "CONCEPT_RELATIONSHIP": "concept_id_1 concept_id_2 relationship_id valid_start_date valid_end_date invalid_reason",
    "CONCEPT_ANCESTOR": "ancestor_concept_id descendant_concept_id min_levels_of_separation max_levels_of_separation",
    "CONCEPT_SYNONYM": "concept_id concept_synonym_name language_concept_id",
    "VOCABULARY": "vocabulary_id vocabulary_name vocabulary_reference vocabulary_version vocabulary_concept_id",
    "DOMAIN": "domain_id domain_name domain_concept_id",
    "CONCEPT_CLASS": "concept_class_id concept_class_name concept_class_concept_id",
    "RELATIONSHIP": "relationship_id relationship_name is_hierarchical defines_ancestry reverse_relationship_id "
    "relationship_concept_id",
    "DRUG_STRENGTH": "drug_concept_id ingredient_concept_id amount_value amount_unit_concept_id numerator_value "
    "numerator_unit_concept_id denominator_value denominator_unit_concept_id box_size valid_start_date "
    "valid_end_date invalid_reason",
}


def athena(name: str) -> Rows:
    with (VOCAB / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_demo_vocabulary_is_athena_shaped_and_self_contained():
    for name, header in ATHENA_HEADERS.items():
        first = (VOCAB / f"{name}.csv").read_text(encoding="utf-8").split("\n", 1)[0]
        assert first == header.replace(" ", "\t"), name
    concepts = {r["concept_id"]: r for r in athena("CONCEPT")}
    assert 150 <= len(concepts) <= 400
    for row in concepts.values():
        assert len(row["valid_start_date"]) == 8 and row["valid_start_date"].isdigit()
    relationships = athena("CONCEPT_RELATIONSHIP")
    for row in relationships:
        assert row["concept_id_1"] in concepts and row["concept_id_2"] in concepts, row
    for row in athena("CONCEPT_ANCESTOR"):
        assert row["ancestor_concept_id"] in concepts and row["descendant_concept_id"] in concepts, row
    assert {r["vocabulary_id"] for r in concepts.values()} == {r["vocabulary_id"] for r in athena("VOCABULARY")}
    assert {r["domain_id"] for r in concepts.values()} == {r["domain_id"] for r in athena("DOMAIN")}
    assert {r["concept_class_id"] for r in concepts.values()} == {
        r["concept_class_id"] for r in athena("CONCEPT_CLASS")
    }
    assert {r["relationship_id"] for r in relationships} == {r["relationship_id"] for r in athena("RELATIONSHIP")}
    none = next(r for r in athena("VOCABULARY") if r["vocabulary_id"] == "None")
    assert none["vocabulary_version"].startswith("ehr2omop demo vocabulary")


def test_demo_vocabulary_has_the_mapping_cases_the_pipeline_must_handle():
    concepts = {r["concept_id"]: r for r in athena("CONCEPT")}
    maps_to: dict[str, list[str]] = {}
    for row in athena("CONCEPT_RELATIONSHIP"):
        if row["relationship_id"] == "Maps to":
            maps_to.setdefault(row["concept_id_1"], []).append(row["concept_id_2"])
    by_code = {(r["vocabulary_id"], r["concept_code"]): r for r in concepts.values()}

    def targets(vocabulary: str, code: str) -> list[dict[str, str]]:
        return [concepts[t] for t in maps_to.get(by_code[(vocabulary, code)]["concept_id"], [])]

    assert [t["concept_code"] for t in targets("SNOMED", "15777000")] == ["9414007"]  # non-standard source
    assert [t["concept_code"] for t in targets("ICD10CM", "K02.9")] == ["80967001"]
    assert [t["domain_id"] for t in targets("SNOMED", "314529007")] == ["Observation"]  # a "condition" code
    assert len(targets("RxNorm", "235389")) == 2  # one source code, two standard concepts
    assert targets("SNOMED", "702927004") == []  # real code without a mapping
    ancestors = {(r["ancestor_concept_id"], r["descendant_concept_id"]) for r in athena("CONCEPT_ANCESTOR")}
    drugs = [c for c in concepts.values() if c["concept_class_id"] == "Clinical Drug"]
    assert len(drugs) >= 20
    for drug in drugs:
        assert (drug["concept_id"], drug["concept_id"]) in ancestors
        assert any(concepts[a]["concept_class_id"] == "Ingredient" for a, d in ancestors if d == drug["concept_id"])


# --- a follow-up batch -----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["3.3", "3.0"])
def test_follow_up_moves_the_latest_encounters_with_everything_that_belongs_to_them(tmp_path, version):
    whole, first, second = tmp_path / "whole", tmp_path / "first", tmp_path / "second"
    generate(whole, version=version)
    generate(first, version=version)
    counts = split_follow_up(first, second, 0.1)
    before = {name: read(whole, name) for name in ENTITIES}
    kept = {name: read(first, name) for name in ENTITIES}
    moved = {name: read(second, name) for name in ENTITIES}
    for name in ENTITIES:
        # every row once, in one of the two batches, with the same header
        assert Counter(map(str, kept[name] + moved[name])) == Counter(map(str, before[name])), name
        assert counts[f"{name}.csv"] == (len(kept[name]), len(moved[name]))
        assert (second / f"{name}.csv").read_text().splitlines()[0] == (whole / f"{name}.csv").read_text().splitlines()[
            0
        ]
        assert not list(first.glob("*.part")) and not list(second.glob("*.part"))
    # the latest tenth of the encounters moved, and only those
    starts = sorted(e["START"] for e in before["encounters"])
    cut = starts[int(len(starts) * 0.9)]
    assert {e["Id"] for e in moved["encounters"]} == {e["Id"] for e in before["encounters"] if e["START"] >= cut}
    # what belongs to a moved encounter or claim moved with it; the reference tables stayed
    late = {e["Id"] for e in moved["encounters"]}
    for name in ("conditions", "observations", "medications", "procedures", "immunizations"):
        assert all(r["ENCOUNTER"] in late for r in moved[name]), name
        assert not any(r["ENCOUNTER"] in late for r in kept[name]), name
    late_claims = {c["Id"] for c in moved["claims"]}
    assert late_claims and all(c["APPOINTMENTID"] in late for c in moved["claims"])
    assert {t["CLAIMID"] for t in moved["claims_transactions"]} <= late_claims
    assert not any(t["CLAIMID"] in late_claims for t in kept["claims_transactions"])
    assert not moved["organizations"] and not moved["providers"] and not moved["payers"]
    # new patients: every encounter of theirs is in the follow-up; known ones stay in the first batch
    new = {p["Id"] for p in moved["patients"]}
    early = {e["PATIENT"] for e in kept["encounters"]}
    assert new and not new & early
    assert {e["PATIENT"] for e in moved["encounters"]} - early == new
    assert {t["PATIENT"] for t in moved["payer_transitions"]} <= new


def test_follow_up_refuses_bad_arguments(tmp_path):
    generate_synthea(tmp_path / "x", patients=3, seed=1)
    with pytest.raises(ValueError, match="share"):
        split_follow_up(tmp_path / "x", tmp_path / "y", 1.0)
    with pytest.raises(UserError, match="must differ"):
        split_follow_up(tmp_path / "x", tmp_path / "x", 0.5)
    with pytest.raises(UserError, match="no patients.csv"):
        split_follow_up(tmp_path / "empty", tmp_path / "y", 0.5)
