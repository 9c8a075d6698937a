"""Running dbt for this project as a subprocess, with the project's profile."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ehr2omop.audit import client_env
from ehr2omop.deid import key_env
from ehr2omop.errors import UserError
from ehr2omop.paths import project_dir


def dbt_executable() -> str:
    """The dbt installed beside this Python (the checkout's .venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if not found:
        raise UserError("dbt is not installed: run `make venv`")
    return found


# The arguments that make a dbt command a batch build (macros/batch/batch.sql).
BATCH_MODE_VARS = ["--vars", "{batch_mode: true}"]


def _dbt_call(args: list[str], env: dict[str, str] | None) -> tuple[list[str], dict[str, str], Path]:
    """The command, environment and folder of ``dbt <args>`` run for this project."""
    root = project_dir()
    cmd = [dbt_executable(), *args, "--project-dir", str(root)]
    # who runs it, where, from which commit: for the audit hook (values already set win)
    full_env = {**client_env(root), **os.environ, **(env or {})}
    # the demo target's own key when none is given (other targets fail in dbt without one)
    full_env.update(key_env(full_env))
    full_env.setdefault("DBT_PROFILES_DIR", str(root))
    return cmd, full_env, root


def run_dbt(args: list[str], env: dict[str, str] | None = None, check: bool = True) -> int:
    """Run ``dbt <args>`` in the project folder; output goes straight to the terminal."""
    cmd, full_env, root = _dbt_call(args, env)
    code = subprocess.run(cmd, cwd=root, env=full_env).returncode
    if check and code != 0:
        raise UserError(f"`dbt {' '.join(args)}` failed (exit {code}): see the output above")
    return code


def capture_dbt(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``dbt <args>`` as run_dbt does, but capture its output (for commands whose output is data)."""
    cmd, full_env, root = _dbt_call(args, env)
    return subprocess.run(cmd, cwd=root, env=full_env, capture_output=True, text=True)
