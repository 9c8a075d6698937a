"""DataQualityDashboard v5.4 rules as dbt tests, generated from the DQD check definitions.

cdmgen calls this module (one entry point, one ``--check``): :func:`read_dqd` reads the four CSV
files of ``../shared/spec/dqd-v5.4`` and :func:`model_tests` gives the model-level ``data_tests``
lines of the model the tests hang on (``cdm_source``: the checks are about the whole CDM instance):
one test per DQD check name and level, each listing every table, field or concept it checks with
DQD's default threshold, run by the generic tests of ``macros/tests/dq_checks.sql``. One test per
check name, not per table and field, keeps the build at about 25 extra nodes instead of 400.
:func:`render_catalog` writes the checks' Kahn category and severity as a macro the tests read.
Only facts of the definitions are used (check names, levels, categories, severities, flags,
thresholds, fields, concept ids).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

CHECKS_CSV = "OMOP_CDMv5.4_Check_Descriptions.csv"
TABLE_CSV = "OMOP_CDMv5.4_Table_Level.csv"
FIELD_CSV = "OMOP_CDMv5.4_Field_Level.csv"
CONCEPT_CSV = "OMOP_CDMv5.4_Concept_Level.csv"
CATALOG_SQL = Path("macros/omop/dq_check_catalog.sql")

# DQD leaves the vocabulary tables out by default (its tablesToExclude): they are delivered, not built.
EXCLUDED_TABLES = (
    "concept",
    "vocabulary",
    "concept_ancestor",
    "concept_relationship",
    "concept_class",
    "concept_synonym",
    "relationship",
    "domain",
)

TABLE_CHECKS = (
    "cdmTable",
    "measurePersonCompleteness",
    "measureConditionEraCompleteness",
    "measureObservationPeriodOverlap",
)
# Field-level checks in the order the tests are written; each with the flag that turns it on.
FIELD_CHECKS = (
    "cdmField",
    "isRequired",
    "cdmDatatype",
    "isPrimaryKey",
    "isForeignKey",
    "fkDomain",
    "fkClass",
    "isStandardValidConcept",
    "measureValueCompleteness",
    "standardConceptRecordCompleteness",
    "sourceConceptRecordCompleteness",
    "sourceValueCompleteness",
    "plausibleValueLow",
    "plausibleValueHigh",
    "plausibleStartBeforeEnd",
    "plausibleAfterBirth",
    "plausibleBeforeDeath",
    "withinVisitDates",
)
CONCEPT_CHECKS = ("plausibleValueLow", "plausibleValueHigh", "plausibleGender")
# In the definitions but not generated: DQD 2.x replaced plausibleTemporalAfter and plausibleDuringLife by
# plausibleAfterBirth / plausibleBeforeDeath / plausibleStartBeforeEnd and no longer runs them;
# plausibleGenderUseDescendants and plausibleUnitConceptIds are not implemented yet.
NOT_GENERATED = (
    "plausibleTemporalAfter",
    "plausibleDuringLife",
    "plausibleGenderUseDescendants",
    "plausibleUnitConceptIds",
)

FATAL_SEVERITY = "error"
OTHER_SEVERITY = "warn"
NAME_LIMIT = 63  # PostgreSQL identifiers: the stored results of a test are a table of the test's name

TOMORROW = re.compile(r"dateadd\(dd,\s*1,\s*getdate\(\)\)", re.I)
NEXT_YEAR = re.compile(r"year\(getdate\(\)\)\s*\+\s*1", re.I)
DATE = re.compile(r"'(\d{4})(\d{2})(\d{2})'")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


class DqdSpecError(Exception):
    """The DQD definitions cannot be read or hold something this generator does not know."""


@dataclass(frozen=True)
class Check:
    name: str
    level: str
    kahn_context: str
    kahn_category: str
    kahn_subcategory: str
    severity: str  # fatal, convention, characterization


HOST_MODEL = "cdm_source"  # the model the DQ tests are attached to in the YAML


@dataclass
class DqdSpec:
    checks: dict[str, Check]
    # (check name, generic test, items) in the order written; every item names its table
    tests: list[tuple[str, str, list[dict]]] = field(default_factory=list)

    def foreign_keys(self) -> set[tuple[str, str]]:
        """(table, field) of the foreign keys whose isForeignKey check fails the build on any orphan.

        That is a fatal check (dbt severity error) with threshold 0: what a dbt relationships
        test at severity error does, so such a key needs no relationships test beside it.
        """
        check = self.checks.get("isForeignKey")
        if check is None or check.severity != "fatal":
            return set()
        return {
            (item["table"], item["field"])
            for name, _generic, items in self.tests
            if name == "isForeignKey"
            for item in items
            if item["threshold"] == 0
        }


def _read(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise DqdSpecError(f"{path}: not found; give the folder of the DQD v5.4 CSV files with --dqd-spec")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def _threshold(value: str, where: str) -> int | float:
    if value == "":
        return 0  # DQD's rule for a check without a threshold: any violating row fails
    try:
        number = float(value)
    except ValueError as exc:
        raise DqdSpecError(f"{where}: threshold {value!r} is not a number") from exc
    return int(number) if number.is_integer() else number


def plausible_value(text: str, where: str) -> dict[str, object]:
    """A plausibleValueLow/High bound of the definitions as {value_kind, value}."""
    if TOMORROW.fullmatch(text):
        return {"value_kind": "tomorrow"}
    if NEXT_YEAR.fullmatch(text):
        return {"value_kind": "next_year"}
    date = DATE.fullmatch(text)
    if date:
        return {"value_kind": "date", "value": "-".join(date.groups())}
    if NUMBER.fullmatch(text):
        number = float(text)
        return {"value_kind": "number", "value": int(number) if number.is_integer() else text}
    raise DqdSpecError(
        f"{where}: plausible value {text!r} is neither a number, a 'YYYYMMDD' date nor a known expression"
    )


def _add(
    items: dict[str, list[dict]],
    row: dict[str, str],
    where: str,
    place: dict[str, str],
    check: str,
    flag: bool,
    **extra: object,
) -> None:
    """Add a field-level check with its threshold when its flag is on."""
    if flag:
        threshold = _threshold(row.get(f"{check}Threshold", ""), where)
        items[check].append({**place, "threshold": threshold, **extra})


def _yes(value: str) -> bool:
    return value.lower() == "yes"


def read_dqd(spec_dir: Path, models: list[str]) -> DqdSpec:
    """The DQD checks of the omop ``models`` (in their order), grouped per table and check name."""
    checks = {}
    for row in _read(spec_dir / CHECKS_CSV):
        checks[row["checkName"]] = Check(
            name=row["checkName"],
            level=row["checkLevel"],
            kahn_context=row["kahnContext"],
            kahn_category=row["kahnCategory"],
            kahn_subcategory=row["kahnSubcategory"],
            severity=row["severity"],
        )
    for name in (*TABLE_CHECKS, *FIELD_CHECKS, *CONCEPT_CHECKS):
        if name not in checks:
            raise DqdSpecError(f"check {name} is not in {CHECKS_CSV}; update dqdgen.py")
    unknown = sorted(set(checks) - {*TABLE_CHECKS, *FIELD_CHECKS, *CONCEPT_CHECKS, *NOT_GENERATED})
    if unknown:
        raise DqdSpecError(f"check(s) {', '.join(unknown)} of {CHECKS_CSV} are unknown to dqdgen.py")

    tables = [m for m in models if m not in EXCLUDED_TABLES]
    table_items: dict[str, list[dict]] = {c: [] for c in TABLE_CHECKS}
    table_rows = {r["cdmTableName"].lower(): r for r in _read(spec_dir / TABLE_CSV)}
    for table in tables:
        if table not in table_rows:
            raise DqdSpecError(f"table {table} is not in {TABLE_CSV}")
        row = table_rows[table]
        for check in TABLE_CHECKS:
            if check == "cdmTable" or _yes(row.get(check, "")):
                threshold = _threshold(row.get(f"{check}Threshold", ""), f"{TABLE_CSV} ({table}.{check})")
                table_items[check].append({"table": table, "threshold": threshold})
    tests: list[tuple[str, str, list[dict]]] = [
        (check, "dq_table_check", items) for check, items in table_items.items() if items
    ]

    fields: dict[str, dict[str, list[dict]]] = {t: {c: [] for c in FIELD_CHECKS} for t in tables}
    for line, row in enumerate(_read(spec_dir / FIELD_CSV), start=2):
        table = row["cdmTableName"].lower()
        if table not in fields:
            continue
        name = row["cdmFieldName"].strip('"').lower()
        where = f"{FIELD_CSV}:{line} ({table}.{name})"
        items = fields[table]

        def add(check: str, flag: bool, **extra: object) -> None:
            _add(items, row, where, {"table": table, "field": name}, check, flag, **extra)  # noqa: B023

        add("cdmField", True)
        add("isRequired", _yes(row["isRequired"]))
        add("cdmDatatype", row["cdmDatatype"].lower() == "integer")
        add("isPrimaryKey", _yes(row["isPrimaryKey"]))
        is_fk = _yes(row["isForeignKey"])
        if is_fk:
            target = row["fkTableName"].lower()
            if target not in models:
                raise DqdSpecError(f"{where}: foreign key to {target}, which is not an omop model")
            add("isForeignKey", True, to_table=target, to_field=row["fkFieldName"].lower())
        add("fkDomain", is_fk and row["fkDomain"] != "", domains=[d.strip() for d in row["fkDomain"].split(",")])
        add("fkClass", is_fk and row["fkClass"] != "", classes=[c.strip() for c in row["fkClass"].split(",")])
        add("isStandardValidConcept", _yes(row["isStandardValidConcept"]))
        add("measureValueCompleteness", _yes(row["measureValueCompleteness"]))
        add("standardConceptRecordCompleteness", _yes(row["standardConceptRecordCompleteness"]))
        add("sourceConceptRecordCompleteness", _yes(row["sourceConceptRecordCompleteness"]))
        if _yes(row["sourceValueCompleteness"]):
            if not row["standardConceptFieldName"]:
                raise DqdSpecError(f"{where}: sourceValueCompleteness without standardConceptFieldName")
            add("sourceValueCompleteness", True, concept_field=row["standardConceptFieldName"].lower())
        for check in ("plausibleValueLow", "plausibleValueHigh"):
            if row[check]:
                add(check, True, **plausible_value(row[check], where))
        if _yes(row["plausibleStartBeforeEnd"]):
            add("plausibleStartBeforeEnd", True, end_field=row["plausibleStartBeforeEndFieldName"].lower())
        add("plausibleAfterBirth", _yes(row["plausibleAfterBirth"]))
        add("plausibleBeforeDeath", _yes(row["plausibleBeforeDeath"]))
        add("withinVisitDates", _yes(row["withinVisitDates"]))
    for check in FIELD_CHECKS:
        items = [item for table in tables for item in fields[table][check]]
        if items:
            tests.append((check, "dq_field_check", items))

    concepts: dict[str, list[dict]] = {c: [] for c in CONCEPT_CHECKS}
    for line, row in enumerate(_read(spec_dir / CONCEPT_CSV), start=2):
        table = row["cdmTableName"].lower()
        if table not in fields:
            continue
        name = row["cdmFieldName"].lower()
        where = f"{CONCEPT_CSV}:{line} ({table}.{name} {row['conceptId']})"
        if not (row["plausibleValueLow"] or row["plausibleValueHigh"] or row["plausibleGender"]):
            continue  # a row for checks not generated here (e.g. plausibleGenderUseDescendants)
        if not row["conceptId"].isdigit():
            raise DqdSpecError(f"{where}: concept id {row['conceptId']!r} is not one number")
        base: dict[str, object] = {"table": table, "field": name, "concept_id": int(row["conceptId"])}
        if row["unitConceptId"]:
            base["unit_concept_id"] = int(row["unitConceptId"])
        for check in ("plausibleValueLow", "plausibleValueHigh"):
            if row[check]:
                value = plausible_value(row[check], where)
                if value["value_kind"] != "number":
                    raise DqdSpecError(f"{where}: concept-level {check} must be a number")
                item = {**base, "value": value["value"], "threshold": _threshold(row[f"{check}Threshold"], where)}
                concepts[check].append(item)
        if row["plausibleGender"]:
            item = {
                **base,
                "gender": row["plausibleGender"],
                "threshold": _threshold(row["plausibleGenderThreshold"], where),
            }
            concepts["plausibleGender"].append(item)
    tests += [(check, "dq_concept_check", items) for check, items in concepts.items() if items]
    return DqdSpec(checks=checks, tests=tests)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


ARGUMENT = {"dq_table_check": "tables", "dq_field_check": "fields", "dq_concept_check": "concepts"}


def test_name(check: str, generic: str) -> str:
    """dq_<check> (dq_is_required), dq_concept_<check> for a concept-level check."""
    name = f"dq_{'concept_' if generic == 'dq_concept_check' else ''}{snake(check)}"
    if len(name) > NAME_LIMIT:
        raise DqdSpecError(f"test name {name} is longer than {NAME_LIMIT} characters; shorten the naming in dqdgen.py")
    return name


def _flow(value: object) -> str:
    """A YAML flow value (JSON is YAML): one line per list item keeps the file readable."""
    return json.dumps(value, separators=(", ", ": "))


def model_tests(spec: DqdSpec, table: str) -> list[str]:
    """The model-level ``data_tests:`` lines of one omop model: all DQ tests on HOST_MODEL, none elsewhere."""
    if table != HOST_MODEL:
        return []
    lines: list[str] = []
    for check_name, generic, items in spec.tests:
        check = spec.checks[check_name]
        category = check.kahn_category.lower()
        lines += [
            f"      - {generic}:",
            f"          name: {test_name(check_name, generic)}",
            "          arguments:",
            f"            check_name: {check_name}",
            f"            {ARGUMENT[generic]}:",
        ]
        lines += [f"              - {_flow(item)}" for item in items]
        lines += [
            "          config:",
            f"            severity: {FATAL_SEVERITY if check.severity == 'fatal' else OTHER_SEVERITY}",
            f"            tags: [dq, dq_{category}, dq_{check_name}]",
            "            meta:",
            f"              dq_check: {check_name}",
            f"              dq_level: {check.level}",
            f"              kahn_category: {check.kahn_category}",
            f"              kahn_subcategory: {_flow(check.kahn_subcategory)}",
            f"              dqd_severity: {check.severity}",
        ]
    if lines:
        lines.insert(0, "    data_tests:")
    return lines


CATALOG_TEMPLATE = """\
{{#- {marker} -#}}

{{#-
    The DataQualityDashboard checks this project runs: level, Kahn context, category and subcategory,
    and DQD's severity (fatal, convention, characterization), by check name.
-#}}
{{% macro dq_check_catalog() -%}}
    {{{{ return({{
{entries}
    }}) }}}}
{{%- endmacro %}}
"""


def render_catalog(spec: DqdSpec, marker: str) -> str:
    names = [*TABLE_CHECKS, *[c for c in FIELD_CHECKS if c not in TABLE_CHECKS], "plausibleGender"]
    entries = []
    for i, name in enumerate(names):
        check = spec.checks[name]
        values = {
            "level": check.level,
            "kahn_context": check.kahn_context,
            "kahn_category": check.kahn_category,
            "kahn_subcategory": check.kahn_subcategory,
            "severity": check.severity,
        }
        body = ", ".join(f"'{k}': '{v}'" for k, v in values.items())
        entries.append(f"        '{name}': {{{body}}}{',' if i < len(names) - 1 else ''}")
    return CATALOG_TEMPLATE.format(marker=marker, entries="\n".join(entries))
