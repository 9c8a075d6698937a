"""selectors.yml: each named selection holds what its description promises (real `dbt ls`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from ehr2omop import db

PROJECT = Path(__file__).resolve().parents[2]
SELECTORS = ("nightly", "quality_checks", "deid", "staging_only", "omop_only")
# the tags of the quality gates (README: DataQualityDashboard, row accounting, run metrics,
# vocabulary regression); the mapping coverage gate is the tests of models/quality/
QUALITY_TAGS = {"dq", "row_accounting", "run_metrics", "vocab_regression"}
BUILT_TYPES = {"model", "test", "unit_test", "seed", "snapshot"}

Node = dict[str, object]


@pytest.fixture(scope="module")
def dbt_ls(server: db.Server, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, Node]]:
    """`dbt ls` on the project (artifacts in a temp folder), its nodes by unique_id."""
    tmp = tmp_path_factory.mktemp("selectors")
    env = {**os.environ, "EHR2OMOP_PGPORT": str(server.port)}

    def run(*args: str) -> dict[str, Node]:
        cmd = [
            str(Path(sys.executable).parent / "dbt"),
            "ls",
            *args,
            "--output",
            "json",
            "--output-keys",
            "unique_id resource_type name tags original_file_path",
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT),
            "--target-path",
            str(tmp / "target"),
            "--log-path",
            str(tmp / "logs"),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=PROJECT)
        assert result.returncode == 0, f"dbt ls {' '.join(args)} exited {result.returncode}:\n{result.stdout[-4000:]}"
        nodes = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        return {str(node["unique_id"]): node for node in nodes}

    return run


@pytest.fixture(scope="module")
def everything(dbt_ls: Callable[..., dict[str, Node]]) -> dict[str, Node]:
    nodes = dbt_ls("--resource-type", "all")
    return {uid: node for uid, node in nodes.items() if node["resource_type"] in BUILT_TYPES}


@pytest.fixture(scope="module")
def selected(dbt_ls: Callable[..., dict[str, Node]]) -> dict[str, dict[str, Node]]:
    return {name: dbt_ls("--selector", name) for name in SELECTORS}


def _models_under(nodes: dict[str, Node], folder: str) -> set[str]:
    return {
        uid
        for uid, node in nodes.items()
        if node["resource_type"] == "model" and str(node["original_file_path"]).startswith(folder)
    }


def _of_type(nodes: dict[str, Node], resource_type: str) -> set[str]:
    return {uid for uid, node in nodes.items() if node["resource_type"] == resource_type}


def test_every_selector_is_named_and_described() -> None:
    selectors = yaml.safe_load((PROJECT / "selectors.yml").read_text())["selectors"]
    names = [selector["name"] for selector in selectors]
    assert sorted(names) == sorted(SELECTORS), "selectors.yml and this test name different selectors"
    for selector in selectors:
        assert len(str(selector.get("description", "")).split()) >= 5, f"selector {selector['name']} has no description"


def test_nightly_is_the_full_build(selected: dict[str, dict[str, Node]], everything: dict[str, Node]) -> None:
    nightly = selected["nightly"]
    assert "model.ehr2omop.person" in nightly
    missing = set(everything) - set(nightly)
    assert not missing, f"nightly leaves out {sorted(missing)[:10]}"
    # every kind of node the project builds is there, tests above all
    assert {str(node["resource_type"]) for node in nightly.values()} >= BUILT_TYPES
    assert len(_of_type(nightly, "test")) == len(_of_type(everything, "test")) > 100


def test_quality_checks_are_the_quality_gates_and_nothing_else(
    selected: dict[str, dict[str, Node]], everything: dict[str, Node]
) -> None:
    quality = selected["quality_checks"]
    assert {node["resource_type"] for node in quality.values()} == {"test"}, "quality_checks would build models"
    expected = {
        uid
        for uid, node in everything.items()
        if node["resource_type"] == "test"
        and (QUALITY_TAGS & set(node["tags"]) or str(node["original_file_path"]).startswith("models/quality/"))
    }
    # each gate is present by name, so an empty tag cannot pass unnoticed
    names = {str(node["name"]) for node in quality.values()}
    assert "assert_synthea_row_accounting" in names
    assert "assert_vocabulary_update_keeps_mappings" in names
    assert "warn_omop_volume_drop" in names
    assert any(name.startswith("mapping_coverage_within_thresholds") for name in names)
    assert sum("dq" in node["tags"] for node in quality.values()) >= 20
    assert set(quality) == expected, (
        f"missing: {sorted(expected - set(quality))[:10]}, unexpected: {sorted(set(quality) - expected)[:10]}"
    )


def test_deid_is_the_boundary_with_its_tests(selected: dict[str, dict[str, Node]], everything: dict[str, Node]) -> None:
    deid = selected["deid"]
    boundary = _models_under(everything, "models/mapped/deid/")
    assert len(boundary) >= 18
    assert _of_type(deid, "model") == boundary | {"model.ehr2omop.stg_synthea__patient_keys"}
    # the rules' unit tests and the boundary's data tests come along
    assert _of_type(deid, "unit_test"), "deid holds no unit test of a de-identification rule"
    assert _of_type(deid, "test")


def test_layer_selectors_hold_their_layer(selected: dict[str, dict[str, Node]], everything: dict[str, Node]) -> None:
    assert _of_type(selected["staging_only"], "model") == _models_under(everything, "models/staging/")
    assert _of_type(selected["omop_only"], "model") == _models_under(everything, "models/omop/")
    assert "model.ehr2omop.person" in selected["omop_only"]
    assert _of_type(selected["staging_only"], "test")
