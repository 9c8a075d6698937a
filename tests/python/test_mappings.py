"""`ehr2omop mappings import`: Usagi exports become source_to_concept_map seed rows."""

from __future__ import annotations

import csv
from pathlib import Path

USAGI_HEADER = (
    "sourceCode,sourceName,sourceFrequency,sourceAutoAssignedConceptIds,matchScore,mappingStatus,equivalence,"
    "statusSetBy,statusSetOn,conceptId,conceptName,domainId,mappingType,comment,createdBy,createdOn,assignedReviewer"
)


def usagi_file(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    lines = [USAGI_HEADER]
    for code, name, status, concept in rows:
        lines.append(f"{code},{name},10,,0.9,{status},EQUAL,me,0,{concept},x,Condition,MAPS_TO,,me,0,")
    path.write_text("\n".join(lines) + "\n")
    return path


def read_seed(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_only_approved_rows_are_imported_and_merged(database, tmp_path):
    database.cli("vocab", "load", "--demo")
    seed = tmp_path / "stcm.csv"
    seed.write_text(
        "source_code,source_concept_id,source_vocabulary_id,source_code_description,target_concept_id,"
        "target_vocabulary_id,valid_start_date,valid_end_date,invalid_reason\n"
        "OLD-1,0,SITE,kept as is,8507,Gender,2020-01-01,2099-12-31,\n"
        "DX-2,0,SITE,to be replaced,8532,Gender,2020-01-01,2099-12-31,\n"
    )
    concept = database.scalar("select min(concept_id) from vocab.concept where domain_id = 'Condition'")
    usagi = usagi_file(
        tmp_path / "usagi.csv",
        [
            ("DX-1", "Sore throat", "APPROVED", str(concept)),
            ("DX-2", "Cough", "APPROVED", str(concept)),
            ("DX-3", "Not reviewed", "UNCHECKED", str(concept)),
            ("DX-4", "Flagged", "FLAGGED", "0"),
        ],
    )
    result = database.cli("mappings", "import", str(usagi), "--source-vocabulary-id", "SITE", "--seed", str(seed))
    assert "2 approved mapping(s) merged, 2 row(s) not approved skipped" in result.stdout
    rows = {r["source_code"]: r for r in read_seed(seed)}
    assert set(rows) == {"OLD-1", "DX-1", "DX-2"}
    assert rows["OLD-1"]["source_code_description"] == "kept as is"
    assert rows["DX-2"]["target_concept_id"] == str(concept)
    assert rows["DX-1"]["target_vocabulary_id"] == database.scalar(
        "select vocabulary_id from vocab.concept where concept_id = %s", (concept,)
    )
    assert rows["DX-1"]["valid_end_date"] == "2099-12-31" and rows["DX-1"]["invalid_reason"] == ""


def test_bad_usagi_files_are_refused_in_one_line(database, tmp_path):
    database.cli("vocab", "load", "--demo")
    seed = tmp_path / "stcm.csv"
    no_vocab = usagi_file(tmp_path / "a.csv", [("X", "x", "APPROVED", "8507")])
    result = database.cli("mappings", "import", str(no_vocab), "--seed", str(seed), check=False)
    assert result.returncode == 2 and "pass --source-vocabulary-id" in result.stderr
    unknown = usagi_file(tmp_path / "b.csv", [("X", "x", "APPROVED", "999999999")])
    result = database.cli(
        "mappings", "import", str(unknown), "--source-vocabulary-id", "S", "--seed", str(seed), check=False
    )
    assert result.returncode == 2 and "not in the loaded vocabulary" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not seed.exists()
    (tmp_path / "c.csv").write_text("code,name\nX,x\n")
    result = database.cli("mappings", "import", str(tmp_path / "c.csv"), "--seed", str(seed), check=False)
    assert result.returncode == 2 and "missing Usagi column(s)" in result.stderr
