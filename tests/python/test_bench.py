"""`ehr2omop bench` at a tiny size: the real generator, loader, dbt build and copy floor, then the JSON
it writes checked against the generator's own counts and direct counts in the database it kept.

A benchmark is not a timed test (GUIDE): nothing here asserts a speed, only that the figures are
measured, consistent with each other and true.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ehr2omop import db
from ehr2omop.bench import (
    BUILD_PHASES,
    RUN_PHASES,
    SERVER_SETTINGS,
    TABLE_COLUMNS,
    VOCABULARY_TABLES,
    compare_checksums,
    database_name,
    omop_checksums,
)
from ehr2omop.generate import generate_synthea
from ehr2omop.synthea import ENTITIES

PROJECT = Path(__file__).resolve().parents[2]
PATIENTS = 30
SEED = 5


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [str(Path(sys.executable).parent / "ehr2omop"), "bench", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=PROJECT, env=os.environ.copy())


@pytest.fixture(scope="module")
def kept(server: db.Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """One bench run at PATIENTS with --keep: its JSON, stdout, JSON path, and a connection to the database it kept."""
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    name = database_name(PATIENTS)
    try:
        result = bench("--patients", str(PATIENTS), "--seed", str(SEED), "--keep", "--out", str(out))
        assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        with psycopg.connect(server.url(name), autocommit=True) as conn:
            yield json.loads(out.read_text(encoding="utf-8")), result.stdout, out, conn
    finally:
        db.drop_database(server, name)


def count(conn: psycopg.Connection, schema: str, table: str) -> int:
    return conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table))).fetchone()[0]


def test_rows_are_the_generators_and_the_databases(kept, tmp_path):
    report, _, _, conn = kept
    [result] = report["results"]
    generated = generate_synthea(tmp_path / "extract", patients=PATIENTS, seed=SEED)
    assert result["raw_rows"] == result["generated_rows"] == result["loaded_rows"] == sum(generated.values())
    assert result["raw_tables"] == {name: generated[f"{name}.csv"] for name in ENTITIES}
    assert result["raw_tables"] == {name: count(conn, "raw", name) for name in ENTITIES}

    omop = result["omop_tables"]
    assert not set(omop) & VOCABULARY_TABLES
    assert omop == {table: count(conn, "omop", table) for table in omop}
    assert result["omop_rows"] == sum(omop.values())
    # every generated patient is valid: none is rejected in staging, each becomes one person
    assert omop["person"] == count(conn, "staging", "stg_synthea__patients") == PATIENTS
    assert omop["visit_occurrence"] > 0 and omop["condition_occurrence"] > 0
    # the floor's schema is gone, the build's are there
    assert conn.execute("select to_regnamespace('bench_floor')").fetchone()[0] is None


def test_timings_add_up_and_the_floor_is_below_the_build(kept):
    report, _, _, _ = kept
    [result] = report["results"]
    seconds = result["seconds"]
    for phase in ("generate", "vocab", "load", "parse", *BUILD_PHASES):
        assert seconds[phase] > 0, phase
    assert result["run_seconds"] == pytest.approx(sum(seconds[p] for p in RUN_PHASES), abs=0.01)
    assert result["build_seconds"] == pytest.approx(result["run_seconds"] + result["test_seconds"])
    assert all(result["dbt"][p]["exit_code"] == 0 for p in BUILD_PHASES), result["dbt"]
    assert result["dbt"]["run"]["statuses"].get("success", 0) > 100  # every model of the project

    # one plain copy per base model, of the rows its raw table holds, with the columns it reads
    floor = result["floor"]
    assert sorted(floor) == sorted(f"base_synthea__{name}" for name in ENTITIES)
    for model, copy in floor.items():
        entity = model.removeprefix("base_synthea__")
        assert copy["raw_table"] == f"raw.{entity}"
        assert copy["rows"] == result["raw_tables"][entity]
        # at least the id or date columns and the four loader columns, at most every raw column
        assert 5 < copy["columns"] <= len(ENTITIES[entity].known_columns) + 4, model
        assert copy["model_seconds"] > copy["seconds"] > 0, model  # dbt's build of the same table
    assert result["floor_seconds"] == pytest.approx(sum(c["seconds"] for c in floor.values()))
    assert 0 < result["floor_seconds"] < result["build_seconds"]
    assert result["build_over_floor"] == pytest.approx(result["build_seconds"] / result["floor_seconds"])
    assert result["run_over_floor"] == pytest.approx(result["run_seconds"] / result["floor_seconds"])
    assert result["build_over_floor"] > result["run_over_floor"] > 1

    models = result["slowest_models"]
    assert 0 < len(models) <= 15
    assert all(m["unique_id"].startswith("model.ehr2omop.") for m in models)
    assert [m["seconds"] for m in models] == sorted((m["seconds"] for m in models), reverse=True)


def test_memory_is_measured_for_dbt_and_the_server(kept):
    report, _, _, _ = kept
    [result] = report["results"]
    # dbt (a Python process with the project's manifest) takes tens of MiB at least, not GiBs
    assert 50 < result["peak_dbt_mib"] < 4096
    memory = result["memory"]["during_build"]
    assert memory["dbt_rss_mib"] == result["peak_dbt_mib"]
    assert memory["db_rss_sum_mib"] == result["peak_db_mib"]
    assert 0 < memory["db_rss_largest_mib"] <= memory["db_rss_sum_mib"] < 16384
    if memory["db_pss_sum_mib"] is not None:
        assert 0 < memory["db_pss_sum_mib"] <= memory["db_rss_sum_mib"]
    assert set(BUILD_PHASES) <= set(result["memory"]["per_phase"])


def test_json_holds_every_printed_figure_and_the_machine(kept):
    report, stdout, path, _ = kept
    [result] = report["results"]
    for header, key, _ in TABLE_COLUMNS:
        if key.startswith("batch_"):  # only with --follow-up
            assert key in result and result[key] is None, key
            continue
        assert result.get(key) is not None, f"{header!r}: {key} missing from the JSON"
    machine = report["machine"]
    assert machine["cpu_count"] >= 1 and machine["memory_mib"] > 0
    assert machine["postgresql"].split(".")[0].isdigit()
    assert set(machine["server_settings"]) == set(SERVER_SETTINGS)
    assert "git_commit" in machine
    assert report["finished_at"] is not None and report["sizes"] == [PATIENTS]
    # the printed table: one row for the size, every figure in it, at full width; where the JSON went
    rows = [line.strip("\u2502").split("\u2502") for line in stdout.splitlines() if line.startswith("\u2502")]
    assert [[cell.strip() for cell in row][0] for row in rows] == [str(PATIENTS)]
    assert len(rows[0]) == len(TABLE_COLUMNS)
    for (_, key, _), cell in zip(TABLE_COLUMNS, rows[0], strict=True):
        assert cell.strip() == "-" if key.startswith("batch_") else cell.strip() not in ("", "-"), key
    assert f"results written to {path}" in stdout


def test_bad_sizes_are_refused_in_one_line():
    result = bench("--patients", "1000,lots")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "'lots' is not a patient count" in result.stderr


def test_checksums_name_a_changed_table_and_not_the_others(kept):
    report, _, _, conn = kept
    [result] = report["results"]
    sums = result["omop_checksums"]
    assert set(sums) == set(result["omop_tables"])
    assert all(sums[t].split(":")[0] == str(n) for t, n in result["omop_tables"].items())
    assert omop_checksums(conn, list(sums)) == sums  # recomputed: the same, whatever the scan order

    # one value of one row changed, inside a transaction rolled back: only that table differs
    conn.autocommit = False
    try:
        conn.execute(
            "update omop.person set year_of_birth = year_of_birth + 1"
            " where person_id = (select min(person_id) from omop.person)"
        )
        changed = omop_checksums(conn, list(sums))
    finally:
        conn.rollback()
        conn.autocommit = True
    assert [t for t in sums if changed[t] != sums[t]] == ["person"]
    assert changed["person"].split(":")[0] == sums["person"].split(":")[0]  # same rows, other content

    later = {**report, "results": [{**result, "omop_checksums": changed}]}
    assert compare_checksums(report, report) == []
    [finding] = compare_checksums(later, report)
    assert finding.startswith(f"{PATIENTS:,} patients: omop.person differs")
    # the tables that record the run itself differ between any two runs: not compared
    stamped = {**result["omop_checksums"], "metadata": "0:0", "cdm_source": "0:0"}
    assert compare_checksums({**report, "results": [{**result, "omop_checksums": stamped}]}, report) == []
    assert compare_checksums({**later, "seed": SEED + 1}, report) == [
        f"{PATIENTS:,} patients: the runs used different seeds; not compared"
    ]


def test_follow_up_times_a_batch_build_of_the_held_back_encounters(server, tmp_path):
    out = tmp_path / "bench.json"
    name = database_name(PATIENTS)
    try:
        result = bench(
            "--patients", str(PATIENTS), "--seed", str(SEED), "--follow-up", "0.1", "--keep", "--out", str(out)
        )
        assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        [row] = json.loads(out.read_text(encoding="utf-8"))["results"]
        batch = row["batch"]
        with psycopg.connect(server.url(name), autocommit=True) as conn:
            # the held-back rows were loaded after the full build, and a batch build included them
            assert batch["raw_rows"] == sum(count(conn, "raw", e) for e in ENTITIES) - row["raw_rows"] > 0
            assert batch["patients"] == count(conn, "staging", "stg_synthea__batch_patients") > 0
            assert count(conn, "staging", "built_batches") == 2
        assert batch["patients"] <= PATIENTS
        assert batch["build_seconds"] == pytest.approx(batch["run_seconds"] + batch["test_seconds"])
        assert batch["test_exit_code"] == 0
        assert row["batch_build_seconds"] == batch["build_seconds"]
        assert row["batch_build_percent"] == pytest.approx(100 * batch["build_seconds"] / row["build_seconds"])
        assert batch["run_percent"] == pytest.approx(100 * batch["run_seconds"] / row["run_seconds"])
        assert batch["slowest_models"] and batch["share"] == 0.1
        assert f"{row['batch_build_seconds']:.1f}" in result.stdout
    finally:
        db.drop_database(server, name)
