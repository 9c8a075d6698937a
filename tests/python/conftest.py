"""Shared fixtures: the real embedded PostgreSQL, one fresh database per test, the shared data."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ehr2omop import db

PROJECT = Path(__file__).resolve().parents[2]


def copy_project(tmp: Path) -> Path:
    """The dbt project alone (no venv, no state, no artifacts), to change it without touching the checkout."""
    copy = tmp / "project"
    copy.mkdir()
    for name in ("dbt_project.yml", "profiles.yml", "selectors.yml"):
        shutil.copy(PROJECT / name, copy / name)
    for name in ("models", "macros", "seeds", "analyses", "tests", "snapshots"):
        if (PROJECT / name).is_dir():
            shutil.copytree(PROJECT / name, copy / name, ignore=shutil.ignore_patterns("python", "__pycache__"))
    return copy


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data; EHR2OMOP_SHARED_DATA makes it mandatory (CI), else tests skip without it."""
    given = os.environ.get("EHR2OMOP_SHARED_DATA")
    path = Path(given) if given else PROJECT.parent / "shared" / "data"
    if not (path / "synthea").is_dir() or not (path / "vocabulary").is_dir():
        if given:
            pytest.fail(f"EHR2OMOP_SHARED_DATA={given} has no synthea/ and vocabulary/ folders")
        pytest.skip("shared test data not found (set EHR2OMOP_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def server() -> db.Server:
    return db.start()


class Database:
    """A fresh database on the embedded server, with helpers to reach it the way users do."""

    def __init__(self, srv: db.Server, name: str, tmp: Path) -> None:
        self.srv = srv
        self.name = name
        self.tmp = tmp
        self.url = srv.url(name)
        # set for the `ehr2omop` and `dbt` commands run on this database (e.g. EHR2OMOP_DEID_KEY)
        self.extra_env: dict[str, str] = {}

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "EHR2OMOP_PGDATABASE": self.name, "EHR2OMOP_PGPORT": str(self.srv.port), **self.extra_env}

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def scalar(self, query: str, params: tuple = ()) -> object:
        with self.connect() as conn:
            row = conn.execute(query, params).fetchone()
        return row[0] if row else None

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the real `ehr2omop` command against this database."""
        cmd = [str(Path(sys.executable).parent / "ehr2omop"), *args]
        result = subprocess.run(cmd, capture_output=True, text=True, env=self.env, cwd=PROJECT)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def dbt(self, *args: str, check: bool = True, project: Path = PROJECT) -> subprocess.CompletedProcess[str]:
        """Run the real `dbt` on the project (or a copy of it) against this database, artifacts in a temp folder."""
        cmd = [
            str(Path(sys.executable).parent / "dbt"),
            *args,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(self.tmp / "target"),
            "--log-path",
            str(self.tmp / "logs"),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, env=self.env, cwd=PROJECT)
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} exited {result.returncode}:\n{result.stdout[-6000:]}")
        return result


@pytest.fixture
def database(server: db.Server, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50]
    db.drop_database(server, name)
    db.ensure_database(server, name)
    yield Database(server, name, tmp_path)
    db.drop_database(server, name)


@pytest.fixture(scope="session")
def deid_key() -> str:
    """This session's de-identification key: random, so a build that ignores EHR2OMOP_DEID_KEY shows."""
    return secrets.token_hex(32)


SHARED_EXTRACTS = ("ma-27", "nj-109")


@pytest.fixture(scope="session", params=SHARED_EXTRACTS)
def built_extract(
    request: pytest.FixtureRequest,
    server: db.Server,
    shared_data: Path,
    deid_key: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Database]:
    """A shared extract built once per session (vocab load, load synthea, dbt build with ``deid_key``).

    Tests may read it, or change it inside a transaction they roll back; nothing else.
    """
    extract = request.param
    # the process id keeps two pytest sessions on one server out of each other's way
    name = f"t_built_{re.sub(r'[^a-z0-9]+', '_', extract)}_{os.getpid()}"
    db.drop_database(server, name)
    db.ensure_database(server, name)
    database = Database(server, name, tmp_path_factory.mktemp(name))
    database.extra_env["EHR2OMOP_DEID_KEY"] = deid_key
    database.cli("vocab", "load", str(shared_data / "vocabulary"))
    database.cli("load", "synthea", str(shared_data / "synthea" / extract))
    database.dbt("build")
    yield database
    db.drop_database(server, name)
