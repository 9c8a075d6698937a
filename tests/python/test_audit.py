"""The audit trail: dbt invocations and loads recorded, append-only, purged only by the retention function."""

from __future__ import annotations

import getpass
import json
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

PROJECT = Path(__file__).resolve().parents[2]
RUNNER = "ehr2omop_runner"
READER = "ehr2omop_reader"
TABLES = ("dbt_invocation", "dbt_node_result", "load_event", "purge_event", "run_metric")


def admin(database) -> psycopg.Connection:
    """A connection as the admin (the embedded superuser), who owns the audit schema."""
    return psycopg.connect(database.srv.admin_url(database.name), autocommit=True)


def role_exists(database, role: str) -> bool:
    with admin(database) as conn:
        return conn.execute("select to_regrole(%s) is not null", (role,)).fetchone()[0]


def connect_as(database, role: str) -> psycopg.Connection:
    return psycopg.connect(make_conninfo(database.srv.admin_url(database.name), user=role), autocommit=True)


def builder(database) -> psycopg.Connection:
    """The role that builds the project: the runner when it exists, else the admin."""
    return connect_as(database, RUNNER) if role_exists(database, RUNNER) else admin(database)


def load_demo(database, tmp_path: Path) -> Path:
    extract = tmp_path / "extract"
    database.cli("generate", "synthea", "--patients", "5", "--seed", "1", "--out", str(extract))
    database.cli("vocab", "load", "--demo")
    database.cli("load", "synthea", str(extract))
    return extract


def run_dbt_as_the_cli_does(database, *args: str) -> subprocess.CompletedProcess[str]:
    """dbt through ehr2omop.dbt_runner.run_dbt (what `ehr2omop run` uses), artifacts in the test's folder."""
    code = "import sys; from ehr2omop.dbt_runner import run_dbt; sys.exit(run_dbt(sys.argv[1:], check=False))"
    paths = ["--target-path", str(database.tmp / "target"), "--log-path", str(database.tmp / "logs")]
    return subprocess.run(
        [sys.executable, "-c", code, *args, *paths], capture_output=True, text=True, env=database.env, cwd=PROJECT
    )


def git_head() -> str:
    result = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "HEAD"], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""


def test_a_dbt_invocation_is_recorded_with_its_node_results(database, tmp_path, monkeypatch):
    load_demo(database, tmp_path)
    result = run_dbt_as_the_cli_does(
        database,
        "build",
        "--select",
        "+stg_synthea__patients",
        "--indirect-selection",
        "cautious",
        "--vars",
        "{audit_test_secret: s3cret-value}",
    )
    assert result.returncode == 0, result.stdout[-4000:]
    run_results = json.loads((database.tmp / "target" / "run_results.json").read_text())
    invocation_id = run_results["metadata"]["invocation_id"]
    # the results an on-run-end hook sees: the nodes, not the project hooks
    node_results = [r for r in run_results["results"] if not r["unique_id"].startswith("operation.")]

    with builder(database) as conn:
        rows = conn.execute("select to_jsonb(i) from audit.dbt_invocation as i").fetchall()
        assert len(rows) == 1
        row = rows[0][0]
        nodes = conn.execute(
            "select unique_id, resource_type, status, rows_affected, execution_seconds, message"
            " from audit.dbt_node_result where invocation_id = %s",
            (invocation_id,),
        ).fetchall()
        vocabulary = conn.execute("select vocabulary_version from vocab.vocabulary_load").fetchone()[0]
        database_user = conn.info.user

    assert row["invocation_id"] == invocation_id
    assert row["command"] == "build"
    assert row["selection"] == "--select +stg_synthea__patients"
    assert row["status"] == "success" and row["error_count"] == 0
    assert row["node_count"] == len(node_results) == len(nodes) > 2
    assert row["target_name"] == "demo" and row["database_name"] == database.name
    assert row["database_user"] == database_user and row["client_addr"] is not None
    assert row["os_user"] == getpass.getuser() and row["client_host"] == socket.gethostname()
    if git_head():
        assert row["git_commit"].removesuffix("-dirty") == git_head()
    assert row["vocabulary_version"] == vocabulary
    assert row["dbt_version"].startswith("1.11") and row["project_name"] == "ehr2omop"
    assert row["project_version"] == "0.1.0"
    assert row["started_at"] <= row["ended_at"] == row["recorded_at"]
    # the arguments are kept, the values of --vars are not (a key may be passed that way)
    assert row["invocation_args"]["which"] == "build"
    assert row["invocation_args"]["vars"] == ["audit_test_secret"]
    assert "s3cret-value" not in json.dumps(row)

    by_id = {unique_id: rest for unique_id, *rest in nodes}
    assert set(by_id) == {r["unique_id"] for r in node_results}
    base = by_id["model.ehr2omop.base_synthea__patients"]
    assert base[0] == "model" and base[1] == "success" and base[2] == 5 and base[3] >= 0
    assert "SELECT 5" in base[4]
    assert any(resource == "test" and status == "pass" for resource, status, *_ in by_id.values())

    # `ehr2omop audit` lists the run and the loads, newest first
    monkeypatch.setenv("COLUMNS", "250")
    history = database.cli("audit", "--limit", "5").stdout
    runs, loads = history.split("loads (latest 5")
    assert "build --select +stg_synthea__patients" in runs and "success" in runs
    assert f"{database_user} ({getpass.getuser()}@{socket.gethostname()})" in runs
    assert loads.index("synthea") < loads.index("vocabulary")  # the extract came after the vocabulary


def test_loads_are_recorded_and_a_refused_load_too(database, tmp_path):
    extract = load_demo(database, tmp_path)
    conditions = extract / "conditions.csv"
    conditions.write_text(conditions.read_text() + conditions.read_text().splitlines(keepends=True)[-1])
    batch = database.scalar("select batch_id from raw.load_manifest limit 1")
    refused = database.cli("load", "synthea", str(extract), "--batch-id", batch, check=False)
    assert refused.returncode == 2
    # under a new batch, conditions.csv (changed) loads, then encounters.csv (malformed) fails
    encounters = extract / "encounters.csv"
    lines = encounters.read_text().splitlines(keepends=True)
    lines.insert(1, ",".join(["x"] * (lines[0].count(",") + 5)) + "\n")
    encounters.write_text("".join(lines))
    failed = database.cli("load", "synthea", str(extract), "--batch-id", "b2", check=False)
    assert failed.returncode == 2 and "encounters.csv at line 2" in failed.stderr
    missing = database.cli("vocab", "load", str(tmp_path / "nowhere"), check=False)
    assert missing.returncode == 2

    with builder(database) as conn:
        events = conn.execute(
            "select kind, batch_id, vocabulary_version, row_count, status, message, files, database_user, os_user,"
            " client_host, started_at <= ended_at from audit.load_event order by load_event_id"
        ).fetchall()
        user = conn.info.user
    assert [(kind, status) for kind, _, _, _, status, *_ in events] == [
        ("vocabulary", "success"),
        ("synthea", "success"),
        ("synthea", "failed"),
        ("synthea", "failed"),
        ("vocabulary", "failed"),
    ]
    vocab, load, refusal, partial, vocab_refusal = events
    assert vocab[2] == database.scalar("select vocabulary_version from vocab.vocabulary_load")
    assert vocab[3] == sum(table["rows"] for table in vocab[6])
    landed = database.scalar("select sum(row_count) from raw.load_manifest where batch_id = %s", (batch,))
    assert load[1] == batch and load[3] == landed
    assert {f["file"] for f in load[6]} >= {"patients.csv", "conditions.csv"}
    assert refusal[1] == batch and refusal[3] is None
    assert refusal[5] == refused.stderr.strip().removeprefix("error: ") and "already holds a different" in refusal[5]
    # a load that failed part-way names what it loaded before the failing file
    assert partial[1] == "b2" and "encounters.csv at line 2" in partial[5]
    loaded = {f["file"]: f["rows"] for f in partial[6] if f["status"] == "loaded"}
    assert list(loaded) == ["conditions.csv"] and partial[3] == loaded["conditions.csv"] > 0
    assert "encounters.csv" not in {f["file"] for f in partial[6]}
    assert "nowhere" in vocab_refusal[5]
    for event in events:
        assert event[7:] == (user, getpass.getuser(), socket.gethostname(), True)


@pytest.mark.parametrize(
    "statement", ["update audit.{} set recorded_at = now()", "delete from audit.{}", "truncate audit.{} cascade"]
)
def test_audit_rows_cannot_be_changed_or_removed(database, statement):
    database.cli("vocab", "load", "--demo")  # one load_event row
    with admin(database) as conn:
        conn.execute("select audit.purge_older_than(interval '100 years')")  # one purge_event row
    connections = [("admin", admin(database))]
    if role_exists(database, RUNNER):
        connections.append((RUNNER, connect_as(database, RUNNER)))
    for who, conn in connections:
        with conn:
            for table in TABLES:
                with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
                    conn.execute(statement.format(table))
                if who == "admin":  # the runner is stopped earlier, by its privileges
                    assert f"audit.{table} is append-only" in str(refused.value), who
    assert database.scalar("select count(*) from audit.load_event") == 1
    assert database.scalar("select count(*) from audit.purge_event") == 1


def test_setting_the_purge_token_by_hand_does_not_allow_a_delete(database):
    database.cli("vocab", "load", "--demo")
    with admin(database) as conn:
        for local in (False, True):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"), conn.transaction():
                conn.execute("select set_config('ehr2omop.audit_purge_token', %s, %s)", (str(uuid.uuid4()), local))
                conn.execute("delete from audit.load_event")
        # a purge leaves no token behind that could be reused
        conn.execute("select audit.purge_older_than(interval '100 years')")
        assert conn.execute("select count(*) from audit.purge_authorization").fetchone()[0] == 0
    if role_exists(database, RUNNER):
        with connect_as(database, RUNNER) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="purge_older_than"):
                conn.execute("select audit.purge_older_than(interval '0 seconds')")
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="purge_authorization"):
                conn.execute("insert into audit.purge_authorization values ('t', pg_current_xact_id())")
    assert database.scalar("select count(*) from audit.load_event") == 1


def insert_run(conn: psycopg.Connection, invocation_id: str) -> None:
    conn.execute(
        "insert into audit.dbt_invocation (invocation_id, command, invocation_args, dbt_version, started_at,"
        " ended_at, status, node_count, error_count) values (%s, 'build', '{}', '1.11', now(), now(), 'success', 1, 0)",
        (invocation_id,),
    )
    conn.execute(
        "insert into audit.dbt_node_result (invocation_id, unique_id, resource_type, status)"
        " values (%s, 'model.ehr2omop.x', 'model', 'success')",
        (invocation_id,),
    )
    conn.execute(
        "insert into audit.run_metric (invocation_id, metric, subject, value) values (%s, 'omop_rows', 'person', 1)",
        (invocation_id,),
    )
    conn.execute(
        "insert into audit.load_event (kind, source, status, loader_version, started_at, ended_at)"
        " values ('synthea', %s, 'success', 'test', now(), now())",
        (invocation_id,),
    )


def test_purge_deletes_only_rows_older_than_the_period(database):
    with builder(database) as conn:
        insert_run(conn, "old")
        # a client cannot backdate a row: recorded_at is stamped by the server
        conn.execute(
            "insert into audit.load_event (kind, source, status, loader_version, started_at, ended_at, recorded_at)"
            " values ('synthea', 'backdated', 'success', 'test', now(), now(), '1990-01-01')"
        )
        time.sleep(1.5)
        insert_run(conn, "new")
    assert database.scalar("select recorded_at > '2020-01-01' from audit.load_event where source = 'backdated'")
    with admin(database) as conn:
        # the cutoff falls between the two runs: the period is "now" minus the midpoint
        midpoint = conn.execute(
            "select min(recorded_at) + (max(recorded_at) - min(recorded_at)) / 2 from audit.dbt_invocation"
        ).fetchone()[0]
        deleted = dict(conn.execute("select * from audit.purge_older_than(now() - %s)", (midpoint,)).fetchall())
    assert deleted == {"dbt_invocation": 1, "dbt_node_result": 1, "run_metric": 1, "load_event": 2}
    assert database.scalar("select string_agg(invocation_id, ',') from audit.dbt_invocation") == "new"
    assert database.scalar("select string_agg(invocation_id, ',') from audit.dbt_node_result") == "new"
    assert database.scalar("select string_agg(invocation_id, ',') from audit.run_metric") == "new"
    assert database.scalar("select string_agg(source, ',') from audit.load_event") == "new"

    # the command line: as the admin; a shorter period than the rows' age removes the rest
    kept = database.cli("audit", "purge", "--older-than", "1 hour", "--yes")
    assert "audit rows older than 1 hour deleted" in kept.stdout
    assert database.scalar("select count(*) from audit.load_event") == 1
    database.cli("audit", "purge", "--older-than", "0 seconds", "--yes")
    assert database.scalar("select count(*) from audit.dbt_invocation") == 0
    assert database.scalar("select count(*) from audit.load_event") == 0
    # every purge is itself recorded, and purge records are never purged
    purges = database.scalar("select jsonb_agg(older_than::text order by purge_event_id) from audit.purge_event")
    assert len(purges) == 3 and purges[1:] == ["01:00:00", "00:00:00"]
    bad = database.cli("audit", "purge", "--older-than", "-1 day", "--yes", check=False)
    assert bad.returncode == 2 and "zero or a positive interval" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_the_runner_may_only_append_and_read(database):
    if not role_exists(database, RUNNER):
        pytest.skip(f"role {RUNNER} does not exist on this server")
    with admin(database) as conn:
        owner = conn.execute("select nspowner::regrole::text from pg_namespace where nspname = 'audit'").fetchone()[0]
        assert owner == conn.info.user != RUNNER
        for table in TABLES:
            granted = conn.execute(
                "select privilege from unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',"
                " 'REFERENCES', 'TRIGGER']) as privilege where has_table_privilege(%s, %s, privilege)",
                (RUNNER, f"audit.{table}"),
            ).fetchall()
            expected = [("SELECT",)] if table == "purge_event" else [("SELECT",), ("INSERT",)]
            assert granted == expected, table
        for check in (
            "has_table_privilege(%s, 'audit.purge_authorization', 'SELECT')",
            "has_function_privilege(%s, 'audit.purge_older_than(interval)', 'EXECUTE')",
            "has_schema_privilege(%s, 'audit', 'CREATE')",
        ):
            assert conn.execute(f"select {check}", (RUNNER,)).fetchone()[0] is False, check
        if role_exists(database, READER):
            assert conn.execute("select not has_schema_privilege(%s, 'audit', 'USAGE')", (READER,)).fetchone()[0]
    # the runner cannot take the triggers away
    with connect_as(database, RUNNER) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("alter table audit.load_event disable trigger refuse_change_statement")


def test_the_runner_never_creates_the_audit_schema(database):
    """A missing audit schema is created by the admin only: its owner could drop the triggers."""
    if not role_exists(database, RUNNER):
        pytest.skip(f"role {RUNNER} does not exist on this server")
    with admin(database) as conn:
        conn.execute("drop schema audit cascade")
    refused = database.cli("vocab", "load", "--demo", check=False)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"error: the audit schema is missing in database {database.name}; create it as the database admin: "
        "`ehr2omop audit init` (with EHR2OMOP_ADMIN_DATABASE_URL on an external server)"
    )
    assert database.scalar("select to_regnamespace('audit')") is None
    # nor does dbt: its hook only inserts, and says how to create the schema
    run = database.dbt("run", "--select", "base_synthea__patients", check=False)
    assert run.returncode != 0
    assert f"table audit.dbt_invocation not found in database {database.name}" in run.stdout
    assert "`ehr2omop audit init`" in run.stdout
    database.cli("audit", "init")
    database.cli("vocab", "load", "--demo")
    assert database.scalar("select status from audit.load_event") == "success"
