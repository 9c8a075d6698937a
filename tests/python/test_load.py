"""Raw landing: both Synthea versions, idempotence, refusals, manifest, no partial loads."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import pytest

from ehr2omop.synthea import ENTITIES


def csv_records(path: Path) -> int:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def raw_counts(database) -> dict[str, int]:
    return {name: database.scalar(f"select count(*) from raw.{name}") for name in ENTITIES}


@pytest.mark.parametrize("extract", ["ma-27", "nj-109"])
def test_both_synthea_versions_land_every_record(database, shared_data, extract):
    source = shared_data / "synthea" / extract
    result = database.cli("load", "synthea", str(source), "--batch-id", "first")
    assert "loaded" in result.stdout
    counts = raw_counts(database)
    for name in ENTITIES:
        path = source / f"{name}.csv"
        expected = csv_records(path) if path.exists() else 0
        assert counts[name] == expected, name
        manifest = database.scalar(
            "select row_count from raw.load_manifest where batch_id = 'first' and file_name = %s",
            (f"{name}.csv",),
        )
        assert manifest == (expected if path.exists() else None), name
    # line numbers count from the header line (1): the first record is line 2
    assert database.scalar("select min(_line_number) from raw.patients") == 2
    assert database.scalar("select max(_line_number) from raw.patients") == counts["patients"] + 1
    assert database.scalar("select count(distinct _batch_id) from raw.encounters") == 1
    # v3.3 columns that v3.0 lacks are kept (and are null for the v3.0 extract)
    middle = database.scalar("select count(middle) from raw.patients")
    assert (middle > 0) == (extract == "nj-109")


def test_loading_again_is_a_no_op(database, shared_data):
    source = shared_data / "synthea" / "ma-27"
    database.cli("load", "synthea", str(source))
    before = raw_counts(database)
    again = database.cli("load", "synthea", str(source))
    assert "unchanged" in again.stdout and "0 rows loaded" in again.stdout
    # under another batch id, an identical file is recognised and not loaded twice either
    database.cli("load", "synthea", str(source), "--batch-id", "other")
    assert raw_counts(database) == before
    assert database.scalar("select count(*) from raw.load_manifest") == 18


def test_zip_extract_loads_like_a_folder(database, shared_data, tmp_path):
    source = shared_data / "synthea" / "nj-109"
    archive = tmp_path / "extract.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in source.glob("*.csv"):
            zf.write(path, f"output/csv/{path.name}")
    database.cli("load", "synthea", str(archive))
    assert database.scalar("select count(*) from raw.encounters") == csv_records(source / "encounters.csv")


def copy_extract(shared_data: Path, tmp_path: Path, name: str = "ma-27") -> Path:
    target = tmp_path / name
    shutil.copytree(shared_data / "synthea" / name, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def test_different_file_under_same_batch_and_name_is_refused(database, shared_data, tmp_path):
    source = copy_extract(shared_data, tmp_path)
    database.cli("load", "synthea", str(source), "--batch-id", "b1")
    before = raw_counts(database)
    with (source / "conditions.csv").open("a") as fh:
        fh.write("2020-01-01,,someone,someencounter,44054006,Diabetes\n")
    result = database.cli("load", "synthea", str(source), "--batch-id", "b1", check=False)
    assert result.returncode == 2
    error = result.stderr.strip()
    assert len(error.splitlines()) == 1, error
    assert "conditions.csv" in error and "batch b1 already holds a different" in error and "--batch-id" in error
    assert raw_counts(database) == before
    # under a new batch id the new file is welcome; unchanged files are still not duplicated
    database.cli("load", "synthea", str(source), "--batch-id", "b2")
    after = raw_counts(database)
    assert after["conditions"] == 2 * before["conditions"] + 1
    assert after["patients"] == before["patients"]


def test_missing_required_column_refuses_the_extract_before_any_load(database, shared_data, tmp_path):
    source = copy_extract(shared_data, tmp_path)
    path = source / "encounters.csv"
    lines = path.read_text().splitlines(keepends=True)
    lines[0] = lines[0].replace("PATIENT,", "PATIENT_ID,", 1)
    path.write_text("".join(lines))
    result = database.cli("load", "synthea", str(source), check=False)
    assert result.returncode == 2
    error = result.stderr.strip()
    assert len(error.splitlines()) == 1, error
    assert "encounters.csv" in error and "missing required column(s) PATIENT" in error
    # nothing was written: no rows anywhere, no manifest entry
    assert sum(raw_counts(database).values()) == 0
    assert database.scalar("select count(*) from raw.load_manifest") == 0


def test_malformed_row_refuses_that_file_whole(database, shared_data, tmp_path):
    source = copy_extract(shared_data, tmp_path)
    path = source / "medications.csv"
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(5, "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\n")  # too many fields on line 6
    path.write_text("".join(lines))
    result = database.cli("load", "synthea", str(source), check=False)
    assert result.returncode == 2
    error = result.stderr.strip()
    assert "medications.csv at line 6" in error and "nothing of it was loaded" in error
    assert database.scalar("select count(*) from raw.medications") == 0
    assert database.scalar("select count(*) from raw.load_manifest where file_name = 'medications.csv'") == 0


def test_extra_columns_are_kept_and_optional_files_may_be_absent(database, shared_data, tmp_path):
    source = copy_extract(shared_data, tmp_path)
    for name in ("observations", "procedures", "claims", "claims_transactions", "imaging_studies"):
        (source / f"{name}.csv").unlink()
    path = source / "devices.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",SITE_NOTE"] + [line + ",left arm" for line in lines[1:]]) + "\n")
    database.cli("load", "synthea", str(source))
    assert database.scalar("select count(*) from raw.observations") == 0
    assert database.scalar("select count(*) from raw.devices where site_note = 'left arm'") == len(lines) - 1


def test_required_file_and_bad_paths_give_one_line_errors(database, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "encounters.csv").write_text("Id,START,STOP,PATIENT,ENCOUNTERCLASS,CODE\n")
    result = database.cli("load", "synthea", str(empty), check=False)
    assert result.returncode == 2 and "required file(s) patients.csv not found" in result.stderr
    result = database.cli("load", "synthea", str(tmp_path / "nowhere"), check=False)
    assert result.returncode == 2 and "no such file or folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
