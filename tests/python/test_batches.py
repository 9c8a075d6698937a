"""A follow-up batch: built after the first one, the OMOP content equals one build over both."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from conftest import Database
from test_ids import id_maps

from ehr2omop import db
from ehr2omop.bench import RUN_STAMPED_TABLES, content_checksums, omop_checksums, omop_counts
from ehr2omop.generate import generate_synthea, split_follow_up

# everything but the tests: seeds, models, the snapshot
BUILD = ("build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


@pytest.fixture
def batches(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "first", tmp_path / "second"
    generate_synthea(first, patients=80, seed=21)
    split = split_follow_up(first, second, 0.1)
    moved = {name: rows for name, (_kept, rows) in split.items()}
    # new patients and new events of known patients
    assert moved["patients.csv"] > 0 and moved["encounters.csv"] > moved["patients.csv"]
    assert moved["observations.csv"] > 0 and moved["claims_transactions.csv"] > 0
    return first, second


def content(database: Database) -> dict[str, str]:
    """Content checksums (ids as their source keys) of the omop tables that do not record the run."""
    with psycopg.connect(database.url) as conn:
        return content_checksums(conn, [t for t in omop_counts(conn) if t not in RUN_STAMPED_TABLES])


def exact(database: Database) -> dict[str, str]:
    """Checksums of the same tables, ids and all."""
    with psycopg.connect(database.url) as conn:
        return omop_checksums(conn, [t for t in omop_counts(conn) if t not in RUN_STAMPED_TABLES])


def test_follow_up_batch_equals_one_build_over_both(database, server, batches, deid_key, tmp_path):
    first, second = batches
    database.extra_env["EHR2OMOP_DEID_KEY"] = deid_key
    database.cli("vocab", "load", "--demo")
    database.cli("load", "synthea", str(first), "--batch-id", "first")
    database.dbt(*BUILD)
    before = id_maps(database)
    database.cli("load", "synthea", str(second), "--batch-id", "second")
    database.dbt(*BUILD)
    after = id_maps(database)
    for name, old in before.items():
        assert {k: after[name].get(k) for k in old} == old, f"{name}: an id of the first batch changed"
    assert len(after["person_ids"]) > len(before["person_ids"]), "the follow-up brought no new person"
    batch_after_batch = content(database)
    built = exact(database)

    # the same batch again: the loader skips its files, the build changes nothing
    again = database.cli("load", "synthea", str(second), "--batch-id", "second")
    assert "unchanged" in again.stdout
    database.dbt(*BUILD)
    assert exact(database) == built
    assert id_maps(database) == after

    # one database, both batches loaded before the first build
    name = f"{database.name}_all"[:63]
    db.drop_database(server, name)
    db.ensure_database(server, name)
    try:
        at_once = Database(server, name, tmp_path / "at_once")
        at_once.extra_env["EHR2OMOP_DEID_KEY"] = deid_key
        at_once.cli("vocab", "load", "--demo")
        at_once.cli("load", "synthea", str(first), "--batch-id", "first")
        at_once.cli("load", "synthea", str(second), "--batch-id", "second")
        at_once.dbt(*BUILD)
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
    assert differing == [], f"content differs from one build over both batches: {differing}"
    assert int(one_build["person"].split(":")[0]) == len(after["person_ids"])
