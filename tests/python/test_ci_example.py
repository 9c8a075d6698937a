"""docs/ci/github-actions.yml: the example CI workflow keeps its jobs, commands and no secret."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from ehr2omop import db

PROJECT = Path(__file__).resolve().parents[2]
WORKFLOW = PROJECT / "docs" / "ci" / "github-actions.yml"
SECRETS = ("EHR2OMOP_DEID_KEY", "EHR2OMOP_DB_PASSWORD")


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _commands(job: dict) -> str:
    return "\n".join(str(step.get("run", "")) for step in job["steps"])


def _uses(job: dict) -> list[str]:
    return [str(step["uses"]) for step in job["steps"] if "uses" in step]


def test_jobs_and_commands() -> None:
    workflow = _workflow()
    # PyYAML reads the bare key `on` as True
    triggers = workflow.get("on", workflow.get(True))
    assert {"push", "pull_request"} <= set(triggers)
    jobs = workflow["jobs"]
    assert set(jobs) >= {"lint", "build", "slim-ci"}
    for name, job in jobs.items():
        assert "actions/checkout@v4" in _uses(job), name
        assert any(step.get("with", {}).get("python-version") == "3.11" for step in job["steps"]), name
        assert "make venv" in _commands(job), name

    lint = _commands(jobs["lint"])
    assert ".venv/bin/dbt parse" in lint
    assert ".venv/bin/ehr2omop docs coverage" in lint
    # make lint needs the database for sqlfluff's dbt templater: started before it
    assert lint.index(".venv/bin/ehr2omop db start") < lint.index("make lint")

    build = _commands(jobs["build"])
    assert build.index("ehr2omop db reset --yes") < build.index("dbt build --selector nightly")
    assert "dbt docs generate" in build
    uploads = [
        step for step in jobs["build"]["steps"] if str(step.get("uses", "")).startswith("actions/upload-artifact")
    ]
    assert {step["with"]["name"] for step in uploads} == {"dbt-docs", "prod-artifacts"}
    assert "target/index.html" in next(s for s in uploads if s["with"]["name"] == "dbt-docs")["with"]["path"]

    slim = jobs["slim-ci"]
    assert slim["if"] == "github.event_name == 'pull_request'"
    slim_commands = _commands(slim)
    assert "gh run download" in slim_commands and "--name prod-artifacts" in slim_commands
    assert "--branch main" in slim_commands
    assert "dbt build --select state:modified+ --defer --state prod-artifacts/" in slim_commands


def test_secrets_come_from_the_secret_store() -> None:
    text = WORKFLOW.read_text()
    for name in SECRETS:
        assert f"{name}: ${{{{ secrets.{name} }}}}" in text, f"{name} is not read from the secret store"
        # every assignment of the secret is the secret-store expression, never a literal
        for value in re.findall(rf"^\s*{name}\s*[:=]\s*(.+)$", text, flags=re.MULTILINE):
            assert value.strip() == f"${{{{ secrets.{name} }}}}", f"{name} is set to a literal: {value}"
    # no long hex or base64 string (a key) and no password in a URL
    assert not re.search(r"\b[0-9a-fA-F]{32,}\b|[A-Za-z0-9+/]{40,}={0,2}", text)
    assert not re.search(r"postgres(ql)?://[^\s@]*:[^\s@]+@", text)


def test_every_make_target_and_cli_command_exists() -> None:
    text = WORKFLOW.read_text()
    makefile = (PROJECT / "Makefile").read_text()
    for target in set(re.findall(r"\bmake (\w+)", text)):
        assert re.search(rf"^{target}:", makefile, flags=re.MULTILINE), f"make {target} is not a Makefile target"
    cli = Path(sys.executable).parent / "ehr2omop"
    for group, command in set(re.findall(r"ehr2omop (db|vocab|generate|load|docs) (\w+)", text)):
        result = subprocess.run([str(cli), group, command, "--help"], capture_output=True, text=True)
        assert result.returncode == 0, f"ehr2omop {group} {command} does not exist:\n{result.stderr}"


def test_slim_ci_selection_runs_against_a_manifest(server: db.Server, tmp_path: Path) -> None:
    """The slim-CI selection is valid dbt: against this checkout's own manifest nothing is modified."""
    dbt = str(Path(sys.executable).parent / "dbt")
    env = {**os.environ, "EHR2OMOP_PGPORT": str(server.port)}
    common = ["--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT), "--log-path", str(tmp_path / "logs")]
    parsed = subprocess.run(
        [dbt, "parse", "--target-path", str(tmp_path / "prod"), *common], capture_output=True, text=True, env=env
    )
    assert parsed.returncode == 0, parsed.stdout[-3000:]
    state = tmp_path / "prod-artifacts"
    state.mkdir()
    shutil.copy(tmp_path / "prod" / "manifest.json", state / "manifest.json")
    listed = subprocess.run(
        [
            dbt,
            "ls",
            "--select",
            "state:modified+",
            "--state",
            str(state),
            "--target-path",
            str(tmp_path / "pr"),
            *common,
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert listed.returncode == 0, listed.stdout[-3000:]
    assert "No nodes selected" in listed.stdout or not [
        line for line in listed.stdout.splitlines() if "ehr2omop." in line
    ]


def test_readme_documents_it() -> None:
    readme = (PROJECT / "README.md").read_text()
    assert "\n## CI/CD\n" in readme
    assert "docs/ci/github-actions.yml" in readme
