"""Mapping coverage: the per-domain measures, the warn/error gate, and the unmapped-code review loop."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from conftest import PROJECT, Database, copy_project

DOMAINS = {"visit", "condition", "drug", "procedure", "device", "measurement", "observation", "unit", "value"}
COVERAGE_COLUMNS = [
    "domain",
    "total_rows",
    "unmapped_rows",
    "unmapped_share",
    "distinct_codes",
    "unmapped_codes",
    "unmapped_code_share",
    "top_unmapped_codes",
]


def coverage(database: Database) -> dict[str, dict[str, Any]]:
    with database.connect() as conn:
        cur = conn.execute("select * from quality.quality_mapping_coverage")
        names = [c.name for c in cur.description or []]
        assert names == COVERAGE_COLUMNS, "other models read these columns: keep them exactly"
        return {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def build_models(database: Database, *selectors: str, project: Path = PROJECT) -> None:
    """Seeds and models of the selection, without their tests (the full build is tested elsewhere)."""
    database.dbt(
        "build",
        "-s",
        *selectors,
        "--exclude-resource-type",
        "test",
        "--exclude-resource-type",
        "unit_test",
        project=project,
    )


def test_shared_extracts_pass_the_gate_and_measures_add_up(built_extract):
    measures = coverage(built_extract)
    assert set(measures) == DOMAINS
    for domain, row in measures.items():
        assert 0 <= row["unmapped_share"] <= 1 and 0 <= row["unmapped_code_share"] <= 1, domain
        assert row["unmapped_rows"] <= row["total_rows"] and row["unmapped_codes"] <= row["distinct_codes"], domain
    # the condition measures, counted again straight from the CDM table
    condition = measures["condition"]
    assert condition["total_rows"] == built_extract.scalar("select count(*) from omop.condition_occurrence")
    assert condition["unmapped_rows"] == built_extract.scalar(
        "select count(*) from omop.condition_occurrence where condition_concept_id = 0"
    )
    assert condition["unmapped_codes"] == built_extract.scalar(
        "select count(distinct condition_source_value) from omop.condition_occurrence where condition_concept_id = 0"
    )
    # the shared extracts have real unmapped codes (supplies, CVX 207/208, QALY/DALY): warn, never error
    result = built_extract.dbt("test", "-s", "quality_mapping_coverage")
    assert "mapping coverage: device:" in result.stdout and "above the warn threshold" in result.stdout
    assert "above the error threshold" not in result.stdout
    for domain, row in sorted(measures.items()):
        share, code_share = float(row["unmapped_share"]), float(row["unmapped_code_share"])
        print(f"{built_extract.name} {domain}: {share:.1%} of rows, {code_share:.1%} of codes unmapped")


def test_gate_errors_naming_the_domain_when_codes_are_unknown(database, tmp_path):
    """Fault: the extract's condition codes are unknown to the vocabulary; the gate errors and says where."""
    extract = tmp_path / "extract"
    database.cli("generate", "synthea", "--patients", "15", "--seed", "5", "--out", str(extract))
    conditions = extract / "conditions.csv"
    with conditions.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["CODE"] = "XX" + row["CODE"]
    with conditions.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    database.cli("vocab", "load", "--demo")
    database.cli("load", "synthea", str(extract))
    build_models(database, "+quality_mapping_coverage")
    result = database.dbt("test", "-s", "quality_mapping_coverage", check=False)
    assert result.returncode != 0
    assert "FAIL" in result.stdout and "mapping_coverage_within_thresholds" in result.stdout
    messages = [line for line in result.stdout.splitlines() if "mapping coverage: condition:" in line]
    assert any(
        "100.0% of rows unmapped" in m and "above the error threshold 50.0%" in m and "top unmapped codes: XX" in m
        for m in messages
    ), messages
    share = database.scalar("select unmapped_share from quality.quality_mapping_coverage where domain = 'condition'")
    assert share == 1


def test_review_loop_export_approve_import_rebuild_raises_coverage(database, tmp_path):
    """Unmapped codes go out with candidates, a reviewer approves one, and after the rebuild it is mapped."""
    extract = tmp_path / "extract"
    database.cli("generate", "synthea", "--patients", "40", "--seed", "21", "--out", str(extract))
    database.cli("vocab", "load", "--demo")
    database.cli("load", "synthea", str(extract))
    build_models(database, "+quality_mapping_coverage", "+quality_unmapped_codes")
    before = coverage(database)

    exported = tmp_path / "unmapped.csv"
    result = database.cli("mappings", "export", "--out", str(exported))
    rows = list(csv.DictReader(exported.open()))
    codes = list(dict.fromkeys((r["sourceCode"], r["ADD_INFO:sourceVocabularyId"]) for r in rows))
    assert f"{len(codes)} unmapped source code(s)" in result.stdout
    frequencies = [int(r["sourceFrequency"]) for r in rows]
    assert frequencies == sorted(frequencies, reverse=True), "most frequent first"
    # Pareto: the head is the most frequent codes up to and including the one that crosses 80%
    firsts = [next(r for r in rows if (r["sourceCode"], r["ADD_INFO:sourceVocabularyId"]) == c) for c in codes]
    cumulative = [float(r["ADD_INFO:cumulativeShare"]) for r in firsts]
    assert cumulative == sorted(cumulative) and abs(cumulative[-1] - 1) < 1e-6
    head = [r["ADD_INFO:pareto"] == "yes" for r in firsts]
    crossing = next(i for i, share in enumerate(cumulative) if share >= 0.8)
    assert head == [i <= crossing for i in range(len(firsts))]
    # every unmapped code of the coverage model is on the list, with its row count
    unmapped_total = sum(int(r["sourceFrequency"]) for r in firsts)
    assert unmapped_total == sum(before[d]["unmapped_rows"] for d in DOMAINS - {"visit"})

    # the reviewer approves the best candidate of the most frequent code that has one
    chosen = next(r for r in rows if r["ADD_INFO:candidateRank"] == "1")
    assert chosen["conceptId"] in chosen["sourceAutoAssignedConceptIds"].split(";")
    domain, table = {
        "Measurement": ("measurement", "measurement"),
        "Condition": ("condition", "condition_occurrence"),
        "Drug": ("drug", "drug_exposure"),
        "Procedure": ("procedure", "procedure_occurrence"),
    }[chosen["domainId"]]
    for row in rows:
        if row is chosen:
            row["mappingStatus"] = "APPROVED"
    reviewed = tmp_path / "reviewed.csv"
    with reviewed.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    # into a copy of the seed in a copy of the project: the checkout's seeds/ stay as they are
    project = copy_project(tmp_path)
    seed = project / "seeds" / "custom_source_to_concept_map.csv"
    checkout_seed = (PROJECT / "seeds" / "custom_source_to_concept_map.csv").read_text()
    result = database.cli("mappings", "import", str(reviewed), "--seed", str(seed))
    assert "1 approved mapping(s) merged" in result.stdout
    assert chosen["sourceCode"] in seed.read_text()
    assert (PROJECT / "seeds" / "custom_source_to_concept_map.csv").read_text() == checkout_seed
    build_models(
        database,
        "custom_source_to_concept_map+,+quality_mapping_coverage",
        "custom_source_to_concept_map+,+quality_unmapped_codes",
        project=project,
    )

    after = coverage(database)
    frequency = int(chosen["sourceFrequency"])
    assert after[domain]["unmapped_rows"] == before[domain]["unmapped_rows"] - frequency
    assert after[domain]["unmapped_share"] < before[domain]["unmapped_share"]
    assert (
        database.scalar(
            f"select count(*) from omop.{table} where {domain}_source_value = %s and {domain}_concept_id = %s",
            (chosen["sourceCode"], int(chosen["conceptId"])),
        )
        == frequency
    )
    exported_again = tmp_path / "unmapped-after.csv"
    database.cli("mappings", "export", "--out", str(exported_again))
    assert chosen["sourceCode"] not in {r["sourceCode"] for r in csv.DictReader(exported_again.open())}
