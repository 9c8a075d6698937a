"""Documentation coverage: what of the project the docs site leaves undescribed.

Reads dbt's manifest (``dbt parse``) and, when given, its catalog (``dbt docs generate``: the
columns the database really has). Counted, for this project's own package only:

- models, seeds, snapshots, analyses, sources' tables, exposures, singular data tests and unit
  tests: a description;
- every declared column of those: a description;
- with a catalog, every column the database has for them: declared (so described) in the YAML;
- macros, generic tests included (``test_*``): a description, and every argument of the
  macro's signature declared with a description (and no declared argument the signature lacks).

Hooks (dbt's ``operation`` nodes) and dbt's own macros are not counted. 100% means none missing.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ehr2omop.dbt_runner import run_dbt
from ehr2omop.errors import UserError

PACKAGE = "ehr2omop"
DOCUMENTED_NODES = ("model", "seed", "snapshot", "analysis")
SIGNATURE = re.compile(r"\{%-?\s*(?:macro|test)\s+\w+\s*\((.*?)\)\s*-?%\}", re.S)


@dataclass(frozen=True)
class Gap:
    """One thing without documentation: its kind, its name, and what is missing."""

    kind: str
    name: str
    missing: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.missing}"


@dataclass(frozen=True)
class Coverage:
    items: int
    gaps: tuple[Gap, ...]

    @property
    def percent(self) -> float:
        return 100.0 if self.items == 0 else 100.0 * (self.items - len(self.gaps)) / self.items


def _described(entry: dict) -> bool:
    return bool((entry.get("description") or "").strip())


def _columns(kind: str, name: str, declared: dict, actual: dict | None) -> tuple[int, list[Gap]]:
    """Declared columns need a description; with the catalog's columns, every one must be declared."""
    items, gaps = 0, []
    for column, entry in declared.items():
        items += 1
        if not _described(entry):
            gaps.append(Gap(kind, f"{name}.{column}", "column has no description"))
    if actual is not None:
        known = {c.lower() for c in declared}
        for column in actual:
            if column.lower() not in known:
                items += 1
                gaps.append(Gap(kind, f"{name}.{column}", "column is in the database but not in the YAML"))
    return items, gaps


def signature_arguments(macro_sql: str) -> list[str]:
    """Names of a macro's (or generic test's) arguments, from its ``{% macro name(...) %}`` line."""
    match = SIGNATURE.search(macro_sql)
    if match is None:
        return []
    names = []
    for part in re.split(r",(?![^(\[{]*[)\]}])", match.group(1)):
        name = part.split("=", 1)[0].strip()
        if name:
            names.append(name)
    return names


def measure(manifest: dict, catalog: dict | None = None, package: str = PACKAGE) -> Coverage:
    items, gaps = 0, []
    catalog_nodes = (catalog or {}).get("nodes", {})
    catalog_sources = (catalog or {}).get("sources", {})

    def count(ok: bool, gap: Gap) -> None:
        nonlocal items
        items += 1
        if not ok:
            gaps.append(gap)

    for uid, node in sorted(manifest.get("nodes", {}).items()):
        if node.get("package_name") != package:
            continue
        kind = node["resource_type"]
        singular_test = kind == "test" and not node.get("test_metadata")
        if kind not in DOCUMENTED_NODES and not singular_test:
            continue
        label = "singular test" if singular_test else kind
        count(_described(node), Gap(label, node["name"], "no description"))
        if kind in DOCUMENTED_NODES:
            actual = catalog_nodes[uid]["columns"] if uid in catalog_nodes and kind != "analysis" else None
            n, found = _columns(kind, node["name"], node.get("columns", {}), actual)
            items += n
            gaps += found
    for uid, source in sorted(manifest.get("sources", {}).items()):
        if source.get("package_name") != package:
            continue
        name = f"{source['source_name']}.{source['name']}"
        count(_described(source), Gap("source", name, "no description"))
        actual = catalog_sources[uid]["columns"] if uid in catalog_sources else None
        n, found = _columns("source", name, source.get("columns", {}), actual)
        items += n
        gaps += found
    for unit_test in sorted(manifest.get("unit_tests", {}).values(), key=lambda u: u["name"]):
        if unit_test.get("package_name") == package:
            count(_described(unit_test), Gap("unit test", unit_test["name"], "no description"))
    for exposure in sorted(manifest.get("exposures", {}).values(), key=lambda e: e["name"]):
        if exposure.get("package_name") == package:
            count(_described(exposure), Gap("exposure", exposure["name"], "no description"))
    for macro in sorted(manifest.get("macros", {}).values(), key=lambda m: m["name"]):
        if macro.get("package_name") != package:
            continue
        kind = "generic test" if macro["name"].startswith("test_") else "macro"
        count(_described(macro), Gap(kind, macro["name"], "no description"))
        declared = {a["name"]: a for a in macro.get("arguments") or []}
        signature = signature_arguments(macro.get("macro_sql", ""))
        for argument in signature:
            entry = declared.get(argument)
            count(
                entry is not None and _described(entry),
                Gap(kind, f"{macro['name']}({argument})", "argument not declared with a description"),
            )
        for argument in declared:
            if argument not in signature:
                count(False, Gap(kind, f"{macro['name']}({argument})", "declared argument is not in the signature"))
    return Coverage(items, tuple(gaps))


def parse_manifest() -> dict:
    """The project's manifest from a fresh ``dbt parse`` (artifacts in a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="ehr2omop-parse-") as tmp:
        run_dbt(["parse", "--quiet", "--target-path", tmp])
        path = Path(tmp) / "manifest.json"
        if not path.is_file():
            raise UserError("dbt parse wrote no manifest.json: see dbt's output above")
        return json.loads(path.read_text())


def read_catalog(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: no such catalog; run `dbt docs generate` and give its target/catalog.json") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not a dbt catalog (invalid JSON at line {exc.lineno}); regenerate it") from None
