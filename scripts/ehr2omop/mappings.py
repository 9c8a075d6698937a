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
from typing import TextIO

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


USAGI_ADD_INFO = (
    USAGI_VOCAB_COLUMN,
    "ADD_INFO:sourceDomain",
    "ADD_INFO:shareOfUnmappedRows",
    "ADD_INFO:cumulativeShare",
    "ADD_INFO:pareto",
    "ADD_INFO:candidateRank",
)
# the columns of a Usagi save file, then the ADD_INFO columns Usagi keeps beside them
EXPORT_COLUMNS = (
    "sourceCode",
    "sourceName",
    "sourceFrequency",
    "sourceAutoAssignedConceptIds",
    "matchScore",
    "mappingStatus",
    "equivalence",
    "statusSetBy",
    "statusSetOn",
    "conceptId",
    "conceptName",
    "domainId",
    "mappingType",
    "comment",
    "createdBy",
    "createdOn",
    "assignedReviewer",
    *USAGI_ADD_INFO,
)

# the review list the dbt model quality_unmapped_codes keeps: one row per unmapped code and
# candidate concept (one row without a candidate when it has none), most frequent code first
UNMAPPED_SQL = """
with candidate_ids as (
    select
        source_code,
        source_vocabulary_id,
        string_agg(cast(candidate_concept_id as text), ';' order by candidate_rank) as concept_ids
    from quality.quality_unmapped_codes
    group by source_code, source_vocabulary_id
)

select
    codes.source_code,
    coalesce(codes.source_description, ''),
    codes.unmapped_rows,
    coalesce(candidate_ids.concept_ids, ''),
    coalesce(codes.match_score, 0),
    coalesce(codes.candidate_concept_id, 0),
    coalesce(codes.candidate_concept_name, ''),
    coalesce(codes.candidate_domain_id, ''),
    codes.source_vocabulary_id,
    codes.expected_domain_id,
    round(codes.share_of_unmapped_rows, 6),
    round(codes.cumulative_share, 6),
    codes.is_pareto,
    codes.candidate_rank
from quality.quality_unmapped_codes as codes
inner join candidate_ids
    on codes.source_code = candidate_ids.source_code
    and codes.source_vocabulary_id = candidate_ids.source_vocabulary_id
order by codes.frequency_rank, codes.candidate_rank nulls last
"""


def export_unmapped(conn: psycopg.Connection, out: Path | None) -> int:
    """Write the unmapped source codes for review, most frequent first, as a Usagi CSV; returns the code count.

    One row per code and candidate concept (`mappingStatus` UNCHECKED): a reviewer sets the right
    row to APPROVED (or puts another concept in `conceptId`), and `ehr2omop mappings import`
    merges the approved rows into the custom source_to_concept_map seed.
    """
    try:
        rows = conn.execute(UNMAPPED_SQL).fetchall()
    except psycopg.errors.UndefinedTable as exc:
        raise UserError(
            "the quality layer is not built in this database (quality.quality_unmapped_codes): run `dbt build` first"
        ) from exc
    records = [_export_record(row) for row in rows]
    if out is None:
        _write_export(sys.stdout, records)
    else:
        with out.open("w", newline="", encoding="utf-8") as fh:
            _write_export(fh, records)
    return len({(r["sourceCode"], r[USAGI_VOCAB_COLUMN]) for r in records})


def _export_record(row: tuple[object, ...]) -> dict[str, object]:
    (code, name, frequency, auto_ids, score, concept, concept_name, domain, vocabulary, source_domain, share,
     cumulative, pareto, rank) = row  # fmt: skip
    record: dict[str, object] = dict.fromkeys(EXPORT_COLUMNS, "")
    record.update(
        {
            "sourceCode": code,
            "sourceName": name,
            "sourceFrequency": frequency,
            "sourceAutoAssignedConceptIds": auto_ids,
            "matchScore": score,
            "mappingStatus": "UNCHECKED",
            "equivalence": "UNREVIEWED",
            "conceptId": concept,
            "conceptName": concept_name,
            "domainId": domain,
            "mappingType": "MAPS_TO",
            "createdBy": "ehr2omop",
            USAGI_VOCAB_COLUMN: vocabulary,
            "ADD_INFO:sourceDomain": source_domain,
            "ADD_INFO:shareOfUnmappedRows": share,
            "ADD_INFO:cumulativeShare": cumulative,
            "ADD_INFO:pareto": "yes" if pareto else "no",
            "ADD_INFO:candidateRank": "" if rank is None else rank,
        }
    )
    return record


def _write_export(fh: TextIO, records: list[dict[str, object]]) -> None:
    writer = csv.DictWriter(fh, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
