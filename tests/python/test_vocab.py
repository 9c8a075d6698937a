"""Vocabulary load: the shared Athena subset as is, atomic replacement, verbatim text."""

from __future__ import annotations

import shutil
from pathlib import Path

from ehr2omop.vocab import TABLES


def athena_rows(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in fh) - 1


def test_shared_vocabulary_loads_as_is(database, shared_data):
    source = shared_data / "vocabulary"
    result = database.cli("vocab", "load", str(source))
    assert "v5.0 29-FEB-24" in result.stdout
    for table in TABLES:
        assert database.scalar(f"select count(*) from vocab.{table}") == athena_rows(source / f"{table.upper()}.csv"), (
            table
        )
    assert database.scalar("select vocabulary_version from vocab.vocabulary_load") == "v5.0 29-FEB-24"
    assert database.scalar("select valid_end_date::text from vocab.concept where concept_id = 0") == "2099-12-31"
    # the joins the mapped layer makes are indexed
    indexes = database.scalar(
        "select string_agg(indexname, ',' order by indexname) from pg_indexes where schemaname = 'vocab'"
    )
    for name in ("concept__pk", "concept__code", "concept_relationship__pk", "concept_ancestor__descendant"):
        assert name in indexes


def write_athena(folder: Path, shared: Path, concept_rows: list[str]) -> Path:
    folder.mkdir()
    for table in TABLES:
        name = f"{table.upper()}.csv"
        header = (shared / name).open().readline()
        rows = concept_rows if table == "concept" else []
        if table == "vocabulary":
            rows = ["None\tOMOP Standardized Vocabularies\tOMOP generated\ttest release 1\t44819096\n"]
        (folder / name).write_text(header + "".join(rows))
    return folder


def test_text_with_quotes_and_backslashes_is_verbatim(database, shared_data, tmp_path):
    name = 'Patient\'s "so-called" C:\\path\\name'
    source = write_athena(
        tmp_path / "v1",
        shared_data / "vocabulary",
        [f"42\t{name}\tCondition\tSNOMED\tClinical Finding\tS\t123\t19700101\t20991231\t\n"],
    )
    database.cli("vocab", "load", str(source))
    assert database.scalar("select concept_name from vocab.concept where concept_id = 42") == name
    assert database.scalar("select invalid_reason is null from vocab.concept where concept_id = 42") is True


def test_a_failed_load_leaves_the_previous_vocabulary(database, shared_data, tmp_path):
    database.cli("vocab", "load", str(shared_data / "vocabulary"))

    def counts() -> dict[str, int]:
        return {t: database.scalar(f"select count(*) from vocab.{t}") for t in TABLES}

    before = counts()
    broken = tmp_path / "broken"
    shutil.copytree(shared_data / "vocabulary", broken)
    # the last file loaded is broken, so every other table was already replaced when it fails
    ancestor = broken / "CONCEPT_ANCESTOR.csv"
    ancestor.chmod(0o644)
    with ancestor.open("a") as fh:
        fh.write("1\tnotanumber\t0\t0\n")
    (broken / "CONCEPT.csv").chmod(0o644)
    (broken / "CONCEPT.csv").write_text((broken / "CONCEPT.csv").read_text().splitlines(keepends=True)[0])
    result = database.cli("vocab", "load", str(broken), check=False)
    assert result.returncode == 2
    error = result.stderr.strip()
    assert len(error.splitlines()) == 1, error
    assert "CONCEPT_ANCESTOR.csv" in error and "previous vocabulary is unchanged" in error
    assert counts() == before
    assert database.scalar("select count(*) from vocab.vocabulary_load") == 1
    # a duplicate key is refused the same way
    dup = write_athena(
        tmp_path / "dup",
        shared_data / "vocabulary",
        ["7\tA\tCondition\tSNOMED\tClinical Finding\tS\t1\t19700101\t20991231\t\n"] * 2,
    )
    result = database.cli("vocab", "load", str(dup), check=False)
    assert result.returncode == 2 and "duplicate keys" in result.stderr
    assert counts() == before


def test_missing_file_is_refused(database, shared_data, tmp_path):
    source = write_athena(tmp_path / "v", shared_data / "vocabulary", [])
    (source / "CONCEPT_RELATIONSHIP.csv").unlink()
    result = database.cli("vocab", "load", str(source), check=False)
    assert result.returncode == 2 and "missing CONCEPT_RELATIONSHIP.csv" in result.stderr
