"""Documentation coverage is 100%, and removing any one description makes `ehr2omop docs coverage` fail.

No database: the checks read what `dbt parse` makes of the project (the docs site test adds the
database's own columns through the catalog).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT, copy_project

from ehr2omop.doc_coverage import measure, signature_arguments


def coverage(project: Path = PROJECT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EHR2OMOP_PROJECT_DIR": str(project), "DBT_PROFILES_DIR": str(project)}
    cmd = [str(Path(sys.executable).parent / "ehr2omop"), "docs", "coverage"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=project)


def undocumented(output: str) -> list[str]:
    return re.findall(r"undocumented: (.+)", output)


def test_everything_in_the_project_is_documented() -> None:
    result = coverage()
    assert result.returncode == 0, result.stdout + result.stderr
    assert undocumented(result.stdout) == []
    counted = re.search(r"coverage: 100\.0% \(([\d,]+) of ([\d,]+) documented\)", result.stdout)
    assert counted, result.stdout
    # models, sources, seeds, macros and every column: thousands of items, not a handful
    assert counted.group(1) == counted.group(2) and int(counted.group(2).replace(",", "")) > 2000


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path}: expected one {old!r}"
    path.write_text(text.replace(old, new))


def test_removing_a_description_fails_naming_it(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    # a column of a quality model, an OMOP column's doc reference, a macro argument, a model
    replace_once(
        project / "models/quality/_quality__models.yml",
        '        description: "unmapped_rows / total_rows, 0..1 (0 for an empty domain)."\n',
        "",
    )
    replace_once(
        project / "models/omop/_omop__models.yml",
        """        description: '{{ doc("omop__person__year_of_birth") }}'\n""",
        "",
    )
    replace_once(
        project / "macros/_macros.yml",
        '        description: "The node being placed (unused: the name depends on the config alone)."\n',
        "",
    )
    (project / "models/quality/quality_extra.sql").write_text("select 1 as one\n")
    result = coverage(project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert sorted(undocumented(result.stdout)) == [
        "macro generate_schema_name(node): argument not declared with a description",
        "model person.year_of_birth: column has no description",
        "model quality_extra: no description",
        "model quality_mapping_coverage.unmapped_share: column has no description",
    ], result.stdout


def test_columns_the_database_has_must_be_declared() -> None:
    """With a catalog, a column the YAML leaves out is a gap, though nothing in the YAML is empty."""
    manifest = {
        "nodes": {
            "model.ehr2omop.m": {
                "package_name": "ehr2omop",
                "resource_type": "model",
                "name": "m",
                "description": "A model.",
                "columns": {"a": {"description": "Column a."}},
            }
        }
    }
    catalog = {"nodes": {"model.ehr2omop.m": {"columns": {"A": {}, "b": {}}}}, "sources": {}}
    assert measure(manifest).gaps == ()
    gaps = [str(g) for g in measure(manifest, catalog).gaps]
    assert gaps == ["model m.b: column is in the database but not in the YAML"]


def test_macro_arguments_are_read_from_the_signature() -> None:
    sql = "{% macro grab(model, column_name, values=['a', 'b'], opts={'x': 1, 'y': 2}) -%} x {%- endmacro %}"
    assert signature_arguments(sql) == ["model", "column_name", "values", "opts"]
    assert signature_arguments("{% test not_negative(model, column_name) %} select 1 {% endtest %}") == [
        "model",
        "column_name",
    ]
