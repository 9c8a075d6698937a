"""The de-identification key as the toolkit sees it: the environment, or the demo's own key file.

dbt reads the key from EHR2OMOP_DEID_KEY (macros/deid/deid_key.sql). For the demo target the
CLI makes one on first use, in the git-ignored state folder, so demo builds keep the same
pseudonyms and date shifts from run to run; every other target must be given the key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ehr2omop.paths import state_dir

KEY_ENV = "EHR2OMOP_DEID_KEY"
DEMO_TARGETS = ("demo",)


def demo_key_file() -> Path:
    return state_dir() / "demo-deid.key"


def demo_key() -> str:
    """The demo's key: read from its file, created (mode 0600) the first time."""
    path = demo_key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip()


def key_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """What to add to dbt's environment: the demo key when the target is a demo and no key is set."""
    environ = dict(os.environ if environ is None else environ)
    target = environ.get("EHR2OMOP_TARGET", "demo")
    if environ.get(KEY_ENV) or target not in DEMO_TARGETS:
        return {}
    return {KEY_ENV: demo_key()}
