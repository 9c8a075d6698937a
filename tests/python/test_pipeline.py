"""End to end on the shared extracts: raw -> staging with every raw row accounted for."""

from __future__ import annotations

from ehr2omop.synthea import ENTITIES


def accounting(database) -> dict[str, tuple[int, int, int]]:
    """Per entity: (raw rows, staging rows, rejected rows)."""
    result = {}
    for name in ENTITIES:
        raw = database.scalar(f"select count(*) from raw.{name}")
        stg = database.scalar(f"select count(*) from staging.stg_synthea__{name}")
        rejected = database.scalar("select count(*) from staging.stg_synthea__rejects where entity = %s", (name,))
        result[name] = (raw, stg, rejected)
    return result


def test_shared_extract_builds_and_every_raw_row_is_accounted_for(built_extract):
    """The build itself is the session fixture ``built_extract`` (shared with the PHI-leak test)."""
    database = built_extract
    counts = accounting(database)
    for name, (raw, stg, rejected) in counts.items():
        assert raw == stg + rejected, f"{name}: raw {raw} != staging {stg} + rejected {rejected}"
    assert counts["patients"][1] == counts["patients"][0]  # real Synthea patients are all valid
    assert counts["encounters"][1] > 0
    # a second build changes nothing
    database.dbt("build")
    assert accounting(database) == counts


def test_accounting_test_fails_when_a_row_goes_missing(database, shared_data):
    database.cli("vocab", "load", str(shared_data / "vocabulary"))
    database.cli("load", "synthea", str(shared_data / "synthea" / "ma-27"))
    database.dbt("build")
    # a raw row appears that staging has not seen: the accounting no longer adds up
    with database.connect() as conn:
        conn.execute(
            "insert into raw.conditions (start, patient, encounter, code, _batch_id, _file_name, _line_number)"
            " values ('2020-01-01', 'p', 'e', 'c', 'x', 'conditions.csv', 999999)"
        )
    result = database.dbt("test", "-s", "tag:row_accounting", check=False)
    assert result.returncode != 0
    # the failing test's message, logged by the on-run-end hook
    assert "row accounting: conditions has " in result.stdout, result.stdout[-3000:]
    assert "staged event accounting" not in result.stdout  # the passing ones log nothing

    # staging and raw agree again, but an OMOP row of a condition event goes missing: the
    # staging -> OMOP accounting fails, naming the source entity
    with database.connect() as conn:
        conn.execute("delete from raw.conditions where _line_number = 999999")
        conn.execute(
            "delete from omop.condition_occurrence where condition_occurrence_id = ("
            " select ids.id from mapped.condition_occurrence_ids as ids"
            " inner join mapped.mapped_clinical_events as events"
            " on ids.source_key like events.event_key || '|%%'"
            " where events.source_entity = 'conditions' order by ids.id limit 1)"
        )
    clean = database.dbt("test", "-s", "assert_synthea_row_accounting", check=False)
    assert clean.returncode == 0, clean.stdout[-3000:]
    result = database.dbt("test", "-s", "tag:row_accounting", check=False)
    assert result.returncode != 0
    assert "clinical event accounting: conditions" in result.stdout


def test_demo_pipeline_runs_twice_with_the_same_result(database, tmp_path):
    """What `make demo` does, into a test database: generate, vocab --demo, load, dbt build, summary."""
    extract = tmp_path / "extract"
    database.cli("generate", "synthea", "--patients", "150", "--seed", "42", "--out", str(extract))
    first = database.cli("run", "--extract", str(extract), "--vocab", "demo")
    assert "rows per schema and table" in first.stdout and "staging rejects by reason" in first.stdout
    counts = accounting(database)
    assert counts["patients"] == (150, 150, 0)
    # de-identified with the demo's own key: no raw identifier, no real date (ages 90+ included)
    scan = database.cli("deid", "scan")
    assert "no raw identifier and no unshifted date found in omop" in scan.stdout
    for name, (raw, stg, rejected) in counts.items():
        assert raw == stg + rejected, name
    second = database.cli("run", "--extract", str(extract), "--vocab", "demo")
    assert accounting(database) == counts

    def table_rows(output: str) -> list[str]:
        return [line for line in output.splitlines() if line.startswith("│")]

    assert table_rows(second.stdout) == table_rows(first.stdout)
