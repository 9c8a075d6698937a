"""Custom code mappings: Usagi exports in, unmapped source codes out.

Imported mappings live in ``seeds/custom_source_to_concept_map.csv`` (OMOP
SOURCE_TO_CONCEPT_MAP columns), so every mapping change is a reviewed diff in git
and `dbt build` (seeds first) picks it up.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ehr2omop.errors import UserError

STCM_COLUMNS = (
    "source_code",
    "source_concept_id",
    "source_vocabulary_id",
    "source_code_description",
    "target_concept_id",
    "target_vocabulary_id",
    "valid_start_date",
    "valid_end_date",
    "invalid_reason",
)
USAGI_REQUIRED = ("sourceCode", "sourceName", "mappingStatus", "conceptId")
USAGI_VOCAB_COLUMN = "ADD_INFO:sourceVocabularyId"
END_OF_TIME = "2099-12-31"


@dataclass
class ImportResult:
    approved: int
    skipped: int
    written: int
    path: Path


def _read_usagi(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise UserError(f"{path}: no such file; give the CSV that Usagi saved or exported")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in USAGI_REQUIRED if c not in header]
        if missing:
            raise UserError(f"{path}: missing Usagi column(s) {', '.join(missing)}; save the mapping from Usagi as CSV")
        return list(reader)


def _vocabulary_of(conn: psycopg.Connection | None, concept_ids: set[int]) -> dict[int, str]:
    if conn is None or not concept_ids:
        return {}
    rows = conn.execute(
        "select concept_id, vocabulary_id from vocab.concept where concept_id = any(%s)", (sorted(concept_ids),)
    ).fetchall()
    return dict(rows)


def import_usagi(
    usagi_csv: Path,
    seed_csv: Path,
    source_vocabulary_id: str | None,
    conn: psycopg.Connection | None = None,
    today: dt.date | None = None,
) -> ImportResult:
    """Merge the APPROVED rows of a Usagi file into the custom source_to_concept_map seed.

    A code already in the seed (same code and source vocabulary) is replaced by the new
    mapping(s); all other seed rows stay as they are.
    """
    rows = _read_usagi(usagi_csv)
    start = (today or dt.date.today()).isoformat()
    approved: list[dict[str, str]] = []
    skipped = 0
    for number, row in enumerate(rows, start=2):
        if (row.get("mappingStatus") or "").strip().upper() != "APPROVED":
            skipped += 1
            continue
        vocabulary = (row.get(USAGI_VOCAB_COLUMN) or "").strip() or source_vocabulary_id
        if not vocabulary:
            raise UserError(
                f"{usagi_csv} line {number}: no source vocabulary; pass --source-vocabulary-id "
                f"or add a {USAGI_VOCAB_COLUMN} column"
            )
        concept = (row.get("conceptId") or "").strip()
        if not concept.isdigit() or int(concept) == 0:
            raise UserError(
                f"{usagi_csv} line {number}: APPROVED row for {row['sourceCode']!r} has conceptId "
                f"{concept!r}; approve it with a concept or un-approve it"
            )
        approved.append(
            {
                "source_code": row["sourceCode"].strip(),
                "source_concept_id": "0",
                "source_vocabulary_id": vocabulary,
                "source_code_description": (row.get("sourceName") or "").strip()[:255],
                "target_concept_id": concept,
                "target_vocabulary_id": "",
                "valid_start_date": start,
                "valid_end_date": END_OF_TIME,
                "invalid_reason": "",
            }
        )
    vocabularies = _vocabulary_of(conn, {int(r["target_concept_id"]) for r in approved})
    for row in approved:
        row["target_vocabulary_id"] = vocabularies.get(int(row["target_concept_id"]), "")
        if conn is not None and not row["target_vocabulary_id"]:
            raise UserError(
                f"{usagi_csv}: concept {row['target_concept_id']} (for {row['source_code']!r}) is not in the "
                "loaded vocabulary; load the vocabulary Usagi used or fix the mapping"
            )
    existing: list[dict[str, str]] = []
    if seed_csv.exists():
        with seed_csv.open(newline="", encoding="utf-8") as fh:
            existing = list(csv.DictReader(fh))
    replaced = {(r["source_code"], r["source_vocabulary_id"]) for r in approved}
    kept = [r for r in existing if (r["source_code"], r["source_vocabulary_id"]) not in replaced]
    merged = sorted(
        kept + approved, key=lambda r: (r["source_vocabulary_id"], r["source_code"], r["target_concept_id"])
    )
    seed_csv.parent.mkdir(parents=True, exist_ok=True)
    tmp = seed_csv.with_suffix(".csv.part")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=STCM_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in merged:
            writer.writerow({c: row.get(c, "") for c in STCM_COLUMNS})
    tmp.replace(seed_csv)
    return ImportResult(approved=len(approved), skipped=skipped, written=len(merged), path=seed_csv)


EXPORT_COLUMNS = (
    "sourceCode",
    "sourceName",
    "sourceFrequency",
    USAGI_VOCAB_COLUMN,
    "ADD_INFO:sourceDomain",
    "ADD_INFO:shareOfUnmappedRows",
)

UNMAPPED_SQL = """
with unmapped_codes as (
    select distinct source_code, source_vocabulary_id
    from mapped.source_to_standard
    where mapping_kind = 'unmapped'
),

frequencies as (
    select
        events.source_code,
        events.source_vocabulary_id,
        min(events.source_description) as source_name,
        min(events.fallback_domain_id) as source_domain,
        count(*) as frequency
    from mapped.mapped_clinical_events as events
    inner join unmapped_codes
        on events.source_code = unmapped_codes.source_code
        and events.source_vocabulary_id = unmapped_codes.source_vocabulary_id
    group by events.source_code, events.source_vocabulary_id
)

select
    source_code,
    source_name,
    frequency,
    source_vocabulary_id,
    source_domain,
    round(frequency::numeric / sum(frequency) over (), 6) as share
from frequencies
order by frequency desc, source_vocabulary_id, source_code
"""


def export_unmapped(conn: psycopg.Connection, out: Path | None) -> int:
    """Write the unmapped source codes, most frequent first, as a CSV Usagi imports; returns the count."""
    try:
        rows = conn.execute(UNMAPPED_SQL).fetchall()
    except psycopg.errors.UndefinedTable as exc:
        raise UserError("the mapped layer is not built in this database: run `dbt build` first") from exc
    if out is None:
        _write_export(sys.stdout, rows)
    else:
        with out.open("w", newline="", encoding="utf-8") as fh:
            _write_export(fh, rows)
    return len(rows)


def _write_export(fh, rows: list[tuple]) -> None:  # type: ignore[no-untyped-def]
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(rows)
