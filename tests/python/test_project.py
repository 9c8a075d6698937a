"""Facts the project states in more than one place stay in step."""

from __future__ import annotations

import re
import tomllib

from conftest import PROJECT

import ehr2omop


def test_versions_agree():
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["version"]
    dbt_project = (PROJECT / "dbt_project.yml").read_text()
    assert re.search(r'^version: "(.*)"$', dbt_project, re.M).group(1) == pyproject
    assert re.search(r'^  ehr2omop_version: "(.*)"$', dbt_project, re.M).group(1) == pyproject
    assert ehr2omop.__version__ == pyproject
