"""Encryption in transit: a second embedded server of this module's own, with TLS required.

Never the shared server of the test session: the server here lives in a temporary folder of
its own (EHR2OMOP_STATE_DIR) on a free port, and is stopped and removed at the end whatever
happens. The folder is not under pytest's tmp_path on purpose: a pytest run that starts
meanwhile (another checkout, another user of the machine) resets that tree to mode 0700 and
prunes old runs, which would cut the server's OS user off from its data folder, or delete it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from ehr2omop import db, tls

PROJECT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "ehr2omop")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class TlsServer:
    srv: db.Server
    env: dict[str, str]
    tmp: Path

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CLI, *args], capture_output=True, text=True, env=dict(self.env, **env), cwd=PROJECT, timeout=900
        )

    def connect(self, sslmode: str, database: str = "postgres", **kwargs: str) -> psycopg.Connection:
        return psycopg.connect(self.srv.admin_url(database, sslmode=sslmode), autocommit=True, **kwargs)


@pytest.fixture(scope="module")
def tls_server() -> Iterator[TlsServer]:
    tmp = Path(tempfile.mkdtemp(prefix="ehr2omop-tls-test-"))
    port = free_port()
    env = dict(
        os.environ,
        EHR2OMOP_STATE_DIR=str(tmp / "state"),
        EHR2OMOP_PGPORT=str(port),
        EHR2OMOP_PGDATABASE="ehr2omop",
        EHR2OMOP_PG_TLS="1",
        EHR2OMOP_PGSSLMODE="require",
        # dbt's artifacts and logs stay out of the checkout's target/ and logs/
        DBT_TARGET_PATH=str(tmp / "target"),
        DBT_LOG_PATH=str(tmp / "logs"),
    )
    for name in ("EHR2OMOP_DATABASE_URL", "EHR2OMOP_ADMIN_DATABASE_URL", "EHR2OMOP_PGHOST", "PGSSLMODE"):
        env.pop(name, None)
    # The CLI resolves its server from this environment exactly as db.server() does here:
    # make sure that is our own folder and port before anything is started or reconfigured.
    with pytest.MonkeyPatch.context() as mp:
        for name in ("EHR2OMOP_STATE_DIR", "EHR2OMOP_PGPORT", "EHR2OMOP_PGDATABASE"):
            mp.setenv(name, env[name])
        srv = db.server()
    assert srv.root == (tmp / "state" / "pg").resolve() and srv.port == port != db.DEFAULT_PORT
    server = TlsServer(srv, env, tmp)
    postmaster = None
    try:
        started = server.cli("db", "start", "--tls")
        postmaster = _postmaster_pid(srv)
        assert started.returncode == 0, started.stderr
        # log every connection, with its TLS protocol, from here on
        with server.connect("require") as conn:
            conn.execute("alter system set log_connections = on")
            conn.execute("select pg_reload_conf()")
        yield server
    finally:
        _stop(srv, postmaster)
        shutil.rmtree(tmp, ignore_errors=True)


def _postmaster_pid(srv: db.Server) -> int | None:
    pid_file = srv.data_dir / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


def _ours(pid: int, srv: db.Server) -> bool:
    """Whether ``pid`` is still a postgres serving this module's data folder (pids get reused)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return str(srv.data_dir).encode() in cmdline


def _stop(srv: db.Server, started_pid: int | None) -> None:
    """Stop the module's server however the test ended; signal its postmaster if pg_ctl cannot."""
    with contextlib.suppress(Exception):
        db.stop(srv)
    pid = _postmaster_pid(srv) or started_pid
    if pid is None or not _ours(pid, srv):
        return
    os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown
    deadline = time.monotonic() + 30
    while _ours(pid, srv) and time.monotonic() < deadline:
        time.sleep(0.2)


def connection_log(srv: db.Server) -> list[str]:
    return [line for line in srv.log_file.read_text().splitlines() if "connection authorized:" in line]


def test_pipeline_builds_over_tls_and_plain_tcp_is_refused(tls_server: TlsServer) -> None:
    srv, tmp = tls_server.srv, tls_server.tmp
    status = tls_server.cli("db", "status")
    assert status.returncode == 0 and "TLS on" in status.stdout, status.stdout + status.stderr

    # the certificate and key: in the server folder, the key private to the server's OS user
    key = tls.key_file(srv.root)
    key_stat = key.stat()
    assert stat.S_IMODE(key_stat.st_mode) == 0o600
    owner = db.SERVICE_USER if os.geteuid() == 0 else None
    if owner:
        import pwd

        assert pwd.getpwuid(key_stat.st_uid).pw_name == owner

    # (a) the real pipeline (loaders and dbt build) over sslmode=require
    extract = tmp / "extract"
    generated = tls_server.cli("generate", "synthea", "--patients", "20", "--seed", "1", "--out", str(extract))
    assert generated.returncode == 0, generated.stderr
    seen_before = len(connection_log(srv))
    run = tls_server.cli("run", "--extract", str(extract), "--vocab", "demo")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "rows per schema and table" in run.stdout

    with tls_server.connect("require", database="ehr2omop") as conn:
        assert conn.execute("select count(*) from omop.person").fetchone() == (20,)
        ssl, version = conn.execute("select ssl, version from pg_stat_ssl where pid = pg_backend_pid()").fetchone()
        assert (ssl, version) == (True, "TLSv1.3")

    # every connection the run opened, dbt's included, was authorized over TLS 1.3
    during_run = connection_log(srv)[seen_before:]
    dbt_sessions = [line for line in during_run if "application_name=dbt" in line]
    assert dbt_sessions, "\n".join(during_run[-20:])
    without_tls = [line for line in during_run if "SSL enabled (protocol=TLSv1.3" not in line]
    assert not without_tls, "\n".join(without_tls)

    # the certificate verifies for 127.0.0.1 (verify-full, the certificate as its own root)
    with tls_server.connect("verify-full", sslrootcert=str(tls.cert_file(srv.root))) as conn:
        assert conn.execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()").fetchone() == (True,)

    # (b) a connection without TLS is refused by pg_hba
    with pytest.raises(psycopg.OperationalError) as refused:
        tls_server.connect("disable")
    assert re.search(r'pg_hba\.conf rejects connection for host "127\.0\.0\.1", .*no encryption', str(refused.value))
    # ... and the CLI says so in one line
    summary = tls_server.cli("summary", EHR2OMOP_PGSSLMODE="disable")
    assert summary.returncode == 2
    assert summary.stderr.strip().startswith("error: the server of ") and "accepts TLS connections only" in (
        summary.stderr
    ), summary.stderr
    assert len(summary.stderr.strip().splitlines()) == 1


def test_tls_switches_off_and_on_again(tls_server: TlsServer) -> None:
    off = tls_server.cli("db", "start", "--no-tls", EHR2OMOP_PGSSLMODE="prefer")
    assert off.returncode == 0 and "TLS off" in off.stdout, off.stdout + off.stderr
    with tls_server.connect("disable") as conn:
        assert conn.execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()").fetchone() == (False,)
    with pytest.raises(psycopg.OperationalError, match="does not support SSL"):
        tls_server.connect("require")
    assert tls.HBA_BEGIN not in (tls_server.srv.data_dir / "pg_hba.conf").read_text()
    needs_tls = tls_server.cli("summary")  # EHR2OMOP_PGSSLMODE=require from the fixture
    assert needs_tls.returncode == 2 and "has TLS off, and EHR2OMOP_PGSSLMODE=require requires it" in (
        needs_tls.stderr
    ), needs_tls.stderr

    # a plain `db start` keeps the setting it finds; EHR2OMOP_PG_TLS unset
    env_without_switch = {k: v for k, v in tls_server.env.items() if k != "EHR2OMOP_PG_TLS"}
    kept = subprocess.run(
        [CLI, "db", "start"],
        capture_output=True,
        text=True,
        env=dict(env_without_switch, EHR2OMOP_PGSSLMODE="prefer"),
        cwd=PROJECT,
    )
    assert kept.returncode == 0 and "TLS off" in kept.stdout, kept.stdout + kept.stderr

    on = tls_server.cli("db", "start", "--tls")
    assert on.returncode == 0 and "TLS on" in on.stdout, on.stdout + on.stderr
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        tls_server.connect("disable")
    with tls_server.connect("require") as conn:
        assert conn.execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()").fetchone() == (True,)
    hba = (tls_server.srv.data_dir / "pg_hba.conf").read_text()
    assert hba.count(tls.HBA_BEGIN) == 1


def test_bad_settings_are_clear_errors(tls_server: TlsServer) -> None:
    bad_switch = tls_server.cli("db", "start", EHR2OMOP_PG_TLS="maybe")
    assert bad_switch.returncode == 2 and "EHR2OMOP_PG_TLS='maybe' is not a switch" in bad_switch.stderr
    bad_mode = tls_server.cli("db", "url", EHR2OMOP_PGSSLMODE="always")
    assert bad_mode.returncode == 2 and "EHR2OMOP_PGSSLMODE='always' is not an sslmode" in bad_mode.stderr
