"""Vocabulary regression: two vocabulary versions, the mapping history, `vocab diff` and the dbt gate.

Version A is the shared Athena subset as is; version B is a copy of it in which some codes
the data uses lose their mapping (their `Maps to` deprecated, or their own concept
deprecated), one changes how it maps, and the target of a custom map is deprecated.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ehr2omop.roles import READER_ROLE

VERSION_B = "v5.0 TEST-B regression"
PAST = "20240101"


@dataclass
class Plan:
    """What version B does to the vocabulary, and the codes (vocabulary, code) it should change."""

    deprecated_relationships: set[int]  # concept_id_1 whose 'Maps to' rows are deprecated
    deprecated_concepts: set[int]
    expected: dict[str, set[tuple[str, str]]]


# Codes of the built data, each with exactly one target, chosen so that what B deprecates for
# one code touches no other code of the data.
CANDIDATES = """
with single as (
    select *
    from mapped.vocabulary_mappings as m
    where is_mapped
        and source_vocabulary_id != 'UCUM'
        and 1 = (select count(*) from mapped.vocabulary_mappings as o
                 where o.source_vocabulary_id = m.source_vocabulary_id and o.source_code = m.source_code)
        and not exists (
            select 1 from mapped.vocabulary_mappings as o
            where (o.source_vocabulary_id, o.source_code) != (m.source_vocabulary_id, m.source_code)
                and (o.target_concept_id in (m.target_concept_id, nullif(m.source_concept_id, 0))
                     or o.source_concept_id in (m.target_concept_id, nullif(m.source_concept_id, 0)))
        )
)
select source_vocabulary_id, source_code, source_concept_id, target_concept_id, mapping_kind
from single
order by source_row_count desc, source_vocabulary_id, source_code
"""


def make_plan(conn: psycopg.Connection) -> Plan:
    rows = conn.execute(CANDIDATES).fetchall()
    relinked = [r for r in rows if r[4] == "maps_to" and r[2] not in (0, r[3])]
    self_mapped = [r for r in rows if r[4] == "maps_to" and r[2] == r[3]]
    custom = [r for r in rows if r[4] == "custom"]
    assert len(relinked) >= 1 and len(self_mapped) >= 2 and len(custom) >= 1, rows
    lose_relationship = relinked[:2]  # its 'Maps to' deprecated, its concept is not standard: unmapped
    lose_concept = self_mapped[:1]  # its own standard concept deprecated: unmapped
    change = self_mapped[1:2]  # its 'Maps to' itself deprecated: still mapped to itself, as 'self'
    deprecate_target = custom[:1]  # the custom map's target deprecated
    return Plan(
        deprecated_relationships={r[2] for r in lose_relationship + change},
        deprecated_concepts={r[2] for r in lose_concept} | {r[3] for r in deprecate_target},
        expected={
            "unmapped": {(r[0], r[1]) for r in lose_relationship + lose_concept},
            "changed": {(r[0], r[1]) for r in change},
            "target_deprecated": {(r[0], r[1]) for r in deprecate_target},
            "added": set(),
        },
    )


def write_version_b(shared: Path, out: Path, plan: Plan) -> Path:
    """A copy of the shared vocabulary with ``plan`` applied and a new version string."""
    out.mkdir()
    for source in shared.glob("*.csv"):
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        header, rows = lines[0], lines[1:]
        if source.name == "VOCABULARY.csv":
            rows = [re.sub(r"^(None\t[^\t]*\t[^\t]*\t)[^\t]*", lambda m: m.group(1) + VERSION_B, r) for r in rows]
        elif source.name == "CONCEPT.csv":
            rows = [_deprecate_concept(r) if int(r.split("\t", 1)[0]) in plan.deprecated_concepts else r for r in rows]
        elif source.name == "CONCEPT_RELATIONSHIP.csv":
            rows = [_deprecate_maps_to(r, plan.deprecated_relationships) for r in rows]
        (out / source.name).write_text(header + "".join(rows), encoding="utf-8")
    return out


def _deprecate_concept(row: str) -> str:
    fields = row.rstrip("\n").split("\t")
    fields[5] = ""  # standard_concept: a deprecated concept is not standard
    fields[8], fields[9] = PAST, "D"
    return "\t".join(fields) + "\n"


def _deprecate_maps_to(row: str, concepts: set[int]) -> str:
    fields = row.rstrip("\n").split("\t")
    if fields[2] != "Maps to" or int(fields[0]) not in concepts:
        return row
    fields[4], fields[5] = PAST, "D"
    return "\t".join(fields) + "\n"


def test_a_vocabulary_update_that_loses_mappings(database, shared_data, tmp_path):
    database.extra_env["COLUMNS"] = "200"  # rich tables wide enough to read the codes in stdout
    extract = tmp_path / "extract"
    database.cli("generate", "synthea", "--patients", "20", "--seed", "3", "--out", str(extract))
    database.cli("vocab", "load", str(shared_data / "vocabulary"))
    database.cli("load", "synthea", str(extract))
    database.dbt("build")  # version A: the first snapshot, nothing to compare with, the gate passes

    # one version loaded: nothing to compare yet, said in one line
    alone = database.cli("vocab", "diff", check=False)
    assert alone.returncode == 2 and "only 1 vocabulary version" in alone.stderr

    with database.connect() as conn:
        plan = make_plan(conn)
    lost = plan.expected["unmapped"] | plan.expected["target_deprecated"]
    database.cli("vocab", "load", str(write_version_b(shared_data / "vocabulary", tmp_path / "vocab_b", plan)))

    # version B: the mapping, its snapshot and the gate (the rest of the build is not needed here)
    select = ["-s", "source_to_standard vocabulary_mappings vocabulary_mappings_snapshot tag:vocab_regression"]
    gate = database.dbt("build", *select, "--indirect-selection", "cautious", check=False)
    assert gate.returncode == 1, gate.stdout[-3000:]
    assert re.search(r"ERROR=1\b", gate.stdout), gate.stdout[-3000:]
    assert re.search(r"Failure in test assert_vocabulary_update_keeps_mappings", gate.stdout), gate.stdout[-3000:]
    named = re.search(r"vocab_regression: (\d+) source code\(s\) mapped under vocabulary (.*?) lost", gate.stdout)
    assert named, gate.stdout[-3000:]
    assert int(named.group(1)) == len(lost) and named.group(2) == "v5.0 29-FEB-24"
    message = gate.stdout[named.start() : gate.stdout.index("\n", named.start())]
    for vocabulary, code in lost:
        assert f"{vocabulary} {code} (" in message, (vocabulary, code, message)
    for vocabulary, code in plan.expected["changed"]:
        assert f"{vocabulary} {code} (" not in message

    # the snapshot closed the mapping that disappeared (hard delete) and keeps version A's row
    vocabulary, code = sorted(plan.expected["unmapped"])[0]
    history = database.scalar(
        """
        select string_agg(target_concept_id || ':' || (dbt_valid_to is null) || ':' || vocabulary_version, ';'
                          order by dbt_valid_from, target_concept_id)
        from vocab_history.vocabulary_mappings_snapshot
        where source_vocabulary_id = %s and source_code = %s
        """,
        (vocabulary, code),
    )
    old, new = history.split(";")
    assert old.endswith(":false:v5.0 29-FEB-24") and not old.startswith("0:"), history
    assert new == f"0:true:{VERSION_B}", history

    # vocab diff: exactly the codes B changed, by kind, weighted by the rows using them
    out_csv = tmp_path / "diff.csv"
    result = database.cli("vocab", "diff", "--out", str(out_csv))
    for kind in ("unmapped", "target_deprecated", "changed", "added"):
        assert kind in result.stdout
    with out_csv.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    listed = {
        kind: {(r["source_vocabulary_id"], r["source_code"]) for r in rows if r["change"] == kind}
        for kind in plan.expected
    }
    assert listed == plan.expected
    assert len(rows) == sum(len(v) for v in plan.expected.values())
    assert all(int(r["source_rows"]) > 0 for r in rows)
    for row in rows:
        assert row["from_version"] == "v5.0 29-FEB-24" and row["to_version"] == VERSION_B
        if row["change"] == "unmapped":
            assert row["to_targets"] == "0" and row["from_targets"] != "0", row
    for _vocabulary, code in lost:
        assert code in result.stdout
    # the same versions named explicitly; an unknown version is one clear line
    explicit = database.cli("vocab", "diff", "--from", "v5.0 29-FEB-24", "--to", VERSION_B, "--out", str(out_csv))
    assert explicit.returncode == 0
    with out_csv.open(newline="") as fh:
        assert len(list(csv.DictReader(fh))) == len(rows)
    unknown = database.cli("vocab", "diff", "--from", "v9", check=False)
    assert unknown.returncode == 2 and "'v9' was never loaded" in unknown.stderr

    # accepting the loss for one run: within the var the gate only warns
    accepted = database.dbt(
        "test", "-s", "tag:vocab_regression", "--vars", f"{{vocab_regression_max_lost_codes: {len(lost)}}}"
    )
    assert re.search(r"WARN=1\b", accepted.stdout) and re.search(r"ERROR=0\b", accepted.stdout), accepted.stdout

    # the history names every source code: researchers cannot read it
    with database.connect() as conn:
        assert conn.execute("select has_schema_privilege(%s, 'vocab_history', 'usage')", (READER_ROLE,)).fetchone() == (
            False,
        )
