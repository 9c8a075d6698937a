"""Incremental batches: a batch build after a full build equals one full build over every batch."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import psycopg
import pytest
from conftest import Database
from test_ids import id_maps

from ehr2omop import db
from ehr2omop.bench import RUN_STAMPED_TABLES, content_checksums, omop_checksums, omop_counts
from ehr2omop.generate import generate_synthea, split_follow_up

# everything but the tests: seeds, models, the snapshot
WITHOUT_TESTS = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
MIN_PERSONS = 10  # var deid_free_text_min_persons, its default


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def add_shared_text(first: Path, second: Path) -> tuple[str, str]:
    """Make a free-text answer of the first batch cross the publication threshold in the second.

    The answer (code, text) given by the most persons below the threshold is copied onto
    observations of other patients of the second batch (their own encounters), until at
    least MIN_PERSONS + 2 persons gave it: its rows in the first batch, unpublished after the
    full build, must be published after the batch build, although those patients may have no
    record in the second batch.
    """
    _header, before = _rows(first / "observations.csv")
    header, after = _rows(second / "observations.csv")
    persons: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in before:
        if row["TYPE"] != "numeric" and row["VALUE"]:
            persons[(row["CODE"], row["VALUE"])].add(row["PATIENT"])
    candidates = sorted((len(p), key) for key, p in persons.items() if len(p) < MIN_PERSONS)
    assert candidates, "no free-text answer below the threshold in the first batch"
    _count, (code, text) = candidates[-1]
    givers = set(persons[(code, text)]) | {r["PATIENT"] for r in after if (r["CODE"], r["VALUE"]) == (code, text)}
    template = next(r for r in before if (r["CODE"], r["VALUE"]) == (code, text))
    added = []
    for row in after:
        if len(givers) >= MIN_PERSONS + 2:
            break
        if row["PATIENT"] not in givers:
            givers.add(row["PATIENT"])
            added.append(
                {**row, **{k: template[k] for k in ("CATEGORY", "CODE", "DESCRIPTION", "VALUE", "UNITS", "TYPE")}}
            )
    assert len(givers) >= MIN_PERSONS + 2, "the second batch has too few patients"
    with (second / "observations.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(after + added)
    return code, text


@pytest.fixture
def batches(tmp_path: Path) -> tuple[Path, Path, tuple[str, str]]:
    first, second = tmp_path / "first", tmp_path / "second"
    generate_synthea(first, patients=80, seed=21)
    split = split_follow_up(first, second, 0.1)
    moved = {name: rows for name, (_kept, rows) in split.items()}
    # new patients and new events of known patients
    assert moved["patients.csv"] > 0 and moved["encounters.csv"] > moved["patients.csv"]
    assert moved["observations.csv"] > 0 and moved["claims_transactions.csv"] > 0
    return first, second, add_shared_text(first, second)


def content(database: Database) -> dict[str, str]:
    """Content checksums (ids as their source keys) of the omop tables that do not record the run."""
    with psycopg.connect(database.url) as conn:
        return content_checksums(conn, [t for t in omop_counts(conn) if t not in RUN_STAMPED_TABLES])


def exact(database: Database) -> dict[str, str]:
    """Checksums of the same tables, ids and all."""
    with psycopg.connect(database.url) as conn:
        return omop_checksums(conn, [t for t in omop_counts(conn) if t not in RUN_STAMPED_TABLES])


def published(database: Database, text: str) -> int:
    """Persons whose observation or measurement publishes ``text`` as its value."""
    return database.scalar(
        "select count(distinct person_id) from (select person_id from omop.observation where value_source_value = %s"
        " union all select person_id from omop.measurement where value_source_value = %s) as rows",
        (text, text),
    )


def test_batch_build_equals_one_full_build_over_both_batches(database, server, batches, deid_key, tmp_path):
    first, second, (_code, text) = batches
    database.extra_env["EHR2OMOP_DEID_KEY"] = deid_key
    database.cli("vocab", "load", "--demo")
    database.cli("load", "synthea", str(first), "--batch-id", "first")
    database.dbt("build", *WITHOUT_TESTS)
    before = id_maps(database)
    patients = database.scalar("select count(*) from omop.person")
    assert published(database, text) == 0, "the text is published before it crosses the threshold"

    # the second batch, through `ehr2omop update`: a batch build of the persons it touches
    update = database.cli("update", "--extract", str(second), "--batch-id", "second", "--no-tests")
    assert "batch build of" in update.stdout
    recomputed = database.scalar("select count(*) from staging.stg_synthea__batch_patients")
    assert 0 < recomputed < patients, f"{recomputed} of {patients} patients recomputed: not a batch"
    assert database.scalar("select count(*) from staging.stg_synthea__batch_text_patients") > 0
    assert published(database, text) >= MIN_PERSONS
    after = id_maps(database)
    for name, old in before.items():
        assert {k: after[name].get(k) for k in old} == old, f"{name}: an id of the first batch changed"
    assert len(after["person_ids"]) > len(before["person_ids"]), "the follow-up brought no new person"
    batch_after_batch = content(database)
    built = exact(database)
    # every raw row still accounted for, every DataQualityDashboard rule as after a full build
    tested = database.dbt("test", check=False)
    assert tested.returncode == 0, tested.stdout[-4000:]

    # the same batch again: the loader skips its files, the batch build changes nothing
    again = database.cli("update", "--extract", str(second), "--batch-id", "second", "--no-tests")
    assert "0 raw rows from 18 files (18 unchanged: loaded before)" in again.stderr
    assert database.scalar("select count(*) from staging.stg_synthea__batch_patients") == 0
    assert exact(database) == built
    assert id_maps(database) == after

    # one database, both batches loaded before its first (full) build
    name = f"{database.name}_all"[:63]
    db.drop_database(server, name)
    db.ensure_database(server, name)
    try:
        at_once = Database(server, name, tmp_path / "at_once")
        at_once.extra_env["EHR2OMOP_DEID_KEY"] = deid_key
        at_once.cli("vocab", "load", "--demo")
        at_once.cli("load", "synthea", str(first), "--batch-id", "first")
        at_once.cli("load", "synthea", str(second), "--batch-id", "second")
        # a batch build needs a full build before it
        refused = at_once.dbt("build", "--vars", "{batch_mode: true}", *WITHOUT_TESTS, check=False)
        assert refused.returncode != 0 and "no full build is recorded" in refused.stdout
        at_once.dbt("build", *WITHOUT_TESTS)
        one_build = content(at_once)
        renumbered = exact(at_once)
        # the comparison sees content: one changed value shows
        with at_once.connect() as conn:
            conn.execute(
                "update omop.measurement set measurement_date = measurement_date + 1"
                " where measurement_id = (select min(measurement_id) from omop.measurement)"
            )
        assert content(at_once)["measurement"] != one_build["measurement"]
    finally:
        db.drop_database(server, name)
    # the two paths numbered the ids differently: only the content can be compared
    assert [t for t in renumbered if renumbered[t] != built[t]], "same ids: the content comparison proves nothing"
    assert set(one_build) == set(batch_after_batch)
    differing = sorted(t for t in one_build if one_build[t] != batch_after_batch[t])
    assert differing == [], f"the batch build differs from one full build over both batches: {differing}"
    assert int(one_build["person"].split(":")[0]) == len(after["person_ids"])
