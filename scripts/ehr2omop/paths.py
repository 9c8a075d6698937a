"""Where the project and its local state live."""

from __future__ import annotations

import os
from pathlib import Path


def project_dir() -> Path:
    """The checkout: EHR2OMOP_PROJECT_DIR, else the folder holding this package's dbt project."""
    env = os.environ.get("EHR2OMOP_PROJECT_DIR")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parents[2]
    if (here / "dbt_project.yml").exists():
        return here
    return Path.cwd()


def state_dir() -> Path:
    """Git-ignored local state: embedded server data, demo extract, demo key.

    EHR2OMOP_STATE_DIR puts it elsewhere (e.g. a second embedded server beside the checkout's).
    """
    env = os.environ.get("EHR2OMOP_STATE_DIR")
    if env:
        return Path(env).resolve()
    return project_dir() / ".ehr2omop"
