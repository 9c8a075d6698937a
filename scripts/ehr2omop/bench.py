"""The benchmark behind ``make bench`` / ``ehr2omop bench``: how long a full build takes, against a floor.

For each size (patients), on the embedded server, in a database of its own
(``ehr2omop_bench_<patients>``, dropped afterwards unless ``keep``):

1. generate a Synthea-format extract with :mod:`ehr2omop.generate` into a temporary folder;
2. load the demo vocabulary (timed as *vocab*) and the extract (timed as *load*) with the
   project's loaders, as ``ehr2omop run --vocab demo`` does;
3. ``dbt parse`` (timed, in the JSON only: a constant cost of every dbt command, not of the data),
   then what ``dbt build`` runs, one command per resource type in dependency order:
   ``dbt seed``, ``dbt run``, ``dbt snapshot`` (the snapshot reads a model) and ``dbt test`` (data
   and unit tests). *run* is the seconds of the first three, *test* of the last, *build* of all
   four: wall-clock seconds of each dbt process, started by :func:`ehr2omop.dbt_runner.run_dbt`
   (so the de-identification key is handled as in the demo), with artifacts in the temporary
   folder, never in the checkout's ``target/``;
4. the *copy floor*: on the same server, for each staging model that reads a raw table (the
   ``base_synthea__*`` models, found in dbt's manifest), the seconds of a plain
   ``create table bench_floor.<model> as select <columns> from raw.<table>``. The columns are the
   ones the model reads: the raw columns its entity's registry entry names
   (``staging_raw_columns(synthea_entity(...))``, evaluated by ``dbt compile --inline`` so there
   is one registry) and the four loader columns (``staging_raw_metadata_columns()``), all of which
   the base model carries into its table. A raw table outside the registry is copied whole. The
   copies run after the build, so they find the raw tables as warm in cache as the build's last
   reads did; the ``bench_floor`` schema is dropped afterwards.

The headline figure is *build / floor*: how many times longer the whole build takes than only
writing the staging layer's input once. *run / floor* leaves the tests out.

Memory is polled every 0.2 s in a background thread with psutil: the resident set (RSS) of the
dbt process tree (the children of this process), and of the server's processes (the postmaster,
from ``postmaster.pid``, and its children). Summed RSS counts the shared buffers once per
process that touched them, so the JSON also gives the largest single server process and the
summed proportional set size (PSS: shared pages split among the processes sharing them), the
honest total where the kernel offers it.

Results are printed as one table (:data:`TABLE_COLUMNS`) and written as JSON after each size, so
runs can be compared and an interrupted run keeps the sizes it finished.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql
from rich.console import Console
from rich.measure import Measurement
from rich.progress import Progress
from rich.table import Table

from ehr2omop import db
from ehr2omop.audit import git_commit
from ehr2omop.cdmgen import VOCAB_VIEWS
from ehr2omop.dbt_runner import BATCH_MODE_VARS, capture_dbt, run_dbt
from ehr2omop.errors import UserError
from ehr2omop.generate import generate_synthea, split_follow_up
from ehr2omop.load import RAW_SCHEMA, load_synthea
from ehr2omop.paths import project_dir, state_dir
from ehr2omop.synthea import ENTITIES
from ehr2omop.vocab import demo_vocabulary_dir, load_vocabulary

DATABASE_PREFIX = "ehr2omop_bench_"
FLOOR_SCHEMA = "bench_floor"
OMOP_SCHEMA = "omop"
SAMPLE_SECONDS = 0.2
MIB = 1024 * 1024
# What `dbt build` runs (seeds, models, snapshots, data and unit tests), in dependency order.
RUN_PHASES = ("seed", "run", "snapshot")
BUILD_PHASES = (*RUN_PHASES, "test")
# Tables of the omop schema that hold vocabulary, not the extract's data: left out of "OMOP rows".
VOCABULARY_TABLES = frozenset(VOCAB_VIEWS) | {"source_to_concept_map"}
SERVER_SETTINGS = ("work_mem", "shared_buffers", "maintenance_work_mem", "max_parallel_workers_per_gather")
TOP_MODELS = 15
TOP_TESTS = 10

# The raw columns each Synthea staging model reads, from the staging registry itself.
_RAW_COLUMNS_JINJA = (
    "{%- set columns = {} -%}"
    "{%- for name in synthea_entity_names() -%}"
    "{%- do columns.update({name: staging_raw_columns(synthea_entity(name)) + staging_raw_metadata_columns()}) -%}"
    "{%- endfor -%}"
    "{{ tojson(columns) }}"
)

# The printed table, one row per size: header, key of the size's JSON record, format.
TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("patients", "patients", "{:,}"),
    ("raw\nrows", "raw_rows", "{:,}"),
    ("OMOP\nrows", "omop_rows", "{:,}"),
    ("load\ns", "load_seconds", "{:.1f}"),
    ("vocab\ns", "vocab_seconds", "{:.2f}"),
    ("run\ns", "run_seconds", "{:.1f}"),
    ("test\ns", "test_seconds", "{:.1f}"),
    ("build\ns", "build_seconds", "{:.1f}"),
    ("floor\ns", "floor_seconds", "{:.2f}"),
    ("build\n/floor", "build_over_floor", "{:,.1f}"),
    ("run\n/floor", "run_over_floor", "{:,.1f}"),
    ("peak dbt\nMiB", "peak_dbt_mib", "{:,.0f}"),
    ("peak db\nMiB", "peak_db_mib", "{:,.0f}"),
    ("build s per\n1k patients", "build_seconds_per_1k_patients", "{:.1f}"),
    ("batch\nbuild s", "batch_build_seconds", "{:.1f}"),
    ("batch\n/full %", "batch_build_percent", "{:.1f}"),
)

# What the figures mean, written into every JSON file beside them.
DEFINITIONS = {
    "load_seconds": "ehr2omop.load.load_synthea of the generated extract into raw (COPY, one transaction per file)",
    "vocab_seconds": "ehr2omop.vocab.load_vocabulary of the demo vocabulary",
    "parse_seconds": "dbt parse without partial parsing (not part of build_seconds)",
    "run_seconds": "wall seconds of dbt seed + dbt run + dbt snapshot",
    "test_seconds": "wall seconds of dbt test (data and unit tests)",
    "dbt_overhead_seconds": "the part of build_seconds outside dbt's own elapsed time (process start, "
    "imports, reading the parse): paid four times here, once by a single dbt build",
    "build_seconds": "run_seconds + test_seconds: what dbt build runs, one command per resource type",
    "floor_seconds": "sum over the staging models reading a raw table of one plain "
    "`create table as select <the columns the model reads> from raw.<table>`, same server, same run",
    "build_over_floor": "build_seconds / floor_seconds (the headline)",
    "floor.<model>.model_over_floor": "dbt's seconds for that staging model (run_results) / its own copy's seconds",
    "run_over_floor": "run_seconds / floor_seconds",
    "peak_dbt_mib": "peak summed RSS of the dbt process tree during the build phases",
    "peak_db_mib": "peak summed RSS of all server processes during the build phases; counts shared "
    "buffers once per process that touched them, so it overstates the total (see memory.db_pss_sum_mib)",
    "memory.db_rss_largest_mib": "peak RSS of the largest single server process (shared buffers it touched included)",
    "memory.db_pss_sum_mib": "peak summed proportional set size of the server processes: shared pages "
    "divided among the processes sharing them, the closest to the memory really used (null where unavailable)",
    "omop_rows": "rows of the omop tables holding the extract's data (vocabulary tables and views left out)",
    "raw_rows": "rows of the raw tables of the Synthea entities after the load",
    "batch_build_seconds": "with --follow-up: the batch build of the follow-up batch after the full build "
    "(dbt seed + run + snapshot + test with batch_mode; null without --follow-up)",
    "batch_build_percent": "100 * batch_build_seconds / build_seconds",
    "batch.run_percent": "100 * the batch build's run seconds / run_seconds (the models, without the tests)",
}


# --- sizes ------------------------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    """``"1000,10_000"`` -> ``[1000, 10000]``: patient counts, each a positive whole number."""
    sizes = []
    for part in text.split(","):
        item = part.strip().replace("_", "")
        if not item.isdigit() or int(item) < 1:
            raise UserError(
                f"--patients {text!r}: {part.strip()!r} is not a patient count; "
                "give positive whole numbers separated by commas, e.g. --patients 1000,10000"
            )
        sizes.append(int(item))
    return sizes


def database_name(patients: int) -> str:
    return f"{DATABASE_PREFIX}{patients}"


def default_out_path() -> Path:
    """``.ehr2omop/bench/<UTC timestamp>.json`` (in the state folder)."""
    return state_dir() / "bench" / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"


# --- memory -----------------------------------------------------------------------------------


@dataclass
class MemoryPeaks:
    """Peak memory seen during one phase, in bytes (PSS None when the kernel does not give it)."""

    dbt_rss: int = 0
    db_rss_sum: int = 0
    db_rss_largest: int = 0
    db_pss_sum: int | None = None

    def merge(self, other: MemoryPeaks) -> None:
        self.dbt_rss = max(self.dbt_rss, other.dbt_rss)
        self.db_rss_sum = max(self.db_rss_sum, other.db_rss_sum)
        self.db_rss_largest = max(self.db_rss_largest, other.db_rss_largest)
        if other.db_pss_sum is not None:
            self.db_pss_sum = max(self.db_pss_sum or 0, other.db_pss_sum)

    def as_mib(self) -> dict[str, float | None]:
        return {
            "dbt_rss_mib": round(self.dbt_rss / MIB, 1),
            "db_rss_sum_mib": round(self.db_rss_sum / MIB, 1),
            "db_rss_largest_mib": round(self.db_rss_largest / MIB, 1),
            "db_pss_sum_mib": None if self.db_pss_sum is None else round(self.db_pss_sum / MIB, 1),
        }


def postmaster_pid(srv: db.Server) -> int:
    """The server's main process id: the first line of ``postmaster.pid`` in its data folder."""
    try:
        return int((srv.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError) as exc:
        raise UserError(
            f"cannot read the server's process id from {srv.data_dir / 'postmaster.pid'}: {exc}; "
            "is the embedded server running? (`ehr2omop db start`)"
        ) from exc


class MemorySampler:
    """Polls the memory of the dbt processes and of the server every ``interval`` seconds.

    Peaks are kept per phase: set :attr:`phase` before each step. dbt's processes are the
    children of this process (run_dbt starts dbt as one), the server's the postmaster and its
    children.
    """

    def __init__(self, postmaster: int, interval: float = SAMPLE_SECONDS) -> None:
        self.phase = "setup"
        self.peaks: dict[str, MemoryPeaks] = {}
        self._postmaster = postmaster
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ehr2omop-bench-memory", daemon=True)
        self._me = psutil.Process()

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            phase = self.phase
            self.peaks.setdefault(phase, MemoryPeaks()).merge(self.sample())
            self._stop.wait(self._interval)

    def sample(self) -> MemoryPeaks:
        """One reading: summed RSS of dbt; summed RSS, largest RSS and summed PSS of the server."""
        server = _process_tree(self._postmaster)
        server_pids = {p.pid for p in server}
        reading = MemoryPeaks(db_pss_sum=0)
        for proc in server:
            try:
                rss = proc.memory_info().rss
            except psutil.Error:
                continue  # a backend that ended between listing and reading
            reading.db_rss_sum += rss
            reading.db_rss_largest = max(reading.db_rss_largest, rss)
            if reading.db_pss_sum is not None:
                try:
                    reading.db_pss_sum += proc.memory_full_info().pss
                except (psutil.Error, AttributeError):
                    reading.db_pss_sum = None  # no smaps (not Linux) or not ours to read
        for proc in self._me.children(recursive=True):
            if proc.pid in server_pids:
                continue
            try:
                reading.dbt_rss += proc.memory_info().rss
            except psutil.Error:
                continue
        return reading

    def peak(self, phases: tuple[str, ...]) -> MemoryPeaks:
        """The peaks over ``phases`` together."""
        total = MemoryPeaks()
        for phase in phases:
            if phase in self.peaks:
                total.merge(self.peaks[phase])
        return total


def _process_tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


# --- dbt --------------------------------------------------------------------------------------


@dataclass
class Phase:
    """One dbt command of the build: wall seconds, dbt's own elapsed time, exit code, node results."""

    seconds: float
    exit_code: int
    dbt_elapsed_seconds: float | None
    statuses: dict[str, int]
    nodes: list[dict[str, Any]]


class DbtSession:
    """dbt commands on one bench database, with artifacts and logs in a folder of their own."""

    def __init__(self, database: str, work: Path) -> None:
        self.env = {"EHR2OMOP_PGDATABASE": database, "EHR2OMOP_TARGET": "demo"}
        self.target = work / "target"
        self.paths = ["--target-path", str(self.target), "--log-path", str(work / "logs")]

    def run(self, command: str, *args: str) -> Phase:
        """``dbt <command> --quiet``, timed; its run_results.json read (none for parse)."""
        results_file = self.target / "run_results.json"
        results_file.unlink(missing_ok=True)
        started = time.monotonic()
        code = run_dbt([command, "--quiet", *args, *self.paths], env=self.env, check=False)
        seconds = time.monotonic() - started
        if not results_file.is_file():
            return Phase(seconds, code, None, {}, [])
        results = json.loads(results_file.read_text(encoding="utf-8"))
        statuses: dict[str, int] = {}
        nodes = []
        for r in results.get("results", []):
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
            nodes.append({"unique_id": r["unique_id"], "status": r["status"], "seconds": r["execution_time"]})
        return Phase(seconds, code, results.get("elapsed_time"), statuses, nodes)

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.target / "manifest.json").read_text(encoding="utf-8"))

    def raw_columns(self) -> dict[str, list[str]]:
        """Per Synthea entity, the raw columns its staging model reads (registry + loader columns)."""
        result = capture_dbt(
            ["compile", "--quiet", "--output", "json", "--inline", _RAW_COLUMNS_JINJA, *self.paths], env=self.env
        )
        try:
            return json.loads(json.loads(result.stdout)["compiled"])
        except (ValueError, KeyError, TypeError) as exc:
            detail = (result.stdout + result.stderr).strip().splitlines()
            raise UserError(
                "cannot read the staging registry's raw columns with `dbt compile --inline`: "
                f"{detail[-1] if detail else f'exit {result.returncode}'}; check that `dbt parse` succeeds"
            ) from exc


def raw_staging_models(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(staging model, raw table) for every staging model that reads a source in the raw schema, by model name.

    Only the raw tables of the Synthea entities count: a model that reads the load manifest
    (cdm_source, stg_synthea__batch_patients) is not copying the extract.
    """
    raw_sources = {
        uid: source["identifier"]
        for uid, source in manifest["sources"].items()
        if source["schema"] == RAW_SCHEMA and source["identifier"] in ENTITIES
    }
    pairs = []
    for node in manifest["nodes"].values():
        # the base models (tag base) type the raw rows; other staging models may read raw tables
        # for bookkeeping (stg_synthea__batch_patients, whose hook indexes them)
        if node["resource_type"] != "model" or node["fqn"][1:2] != ["staging"] or "base" not in node["tags"]:
            continue
        for uid in node["depends_on"]["nodes"]:
            if uid in raw_sources:
                pairs.append((node["name"], raw_sources[uid]))
    return sorted(pairs)


def _slowest(nodes: list[dict[str, Any]], resource_types: tuple[str, ...], top: int) -> list[dict[str, Any]]:
    chosen = [n for n in nodes if n["unique_id"].split(".", 1)[0] in resource_types]
    chosen.sort(key=lambda n: n["seconds"], reverse=True)
    return [{**n, "seconds": round(n["seconds"], 3)} for n in chosen[:top]]


# --- the database -----------------------------------------------------------------------------


def copy_floor(
    conn: psycopg.Connection, models: list[tuple[str, str]], registry: dict[str, list[str]]
) -> dict[str, dict[str, Any]]:
    """Time ``create table bench_floor.<model> as select <columns> from raw.<table>`` for each model.

    ``registry``: the raw columns read per raw table; a table outside it is copied whole. The
    schema is dropped afterwards, also when a copy fails.
    """
    floor: dict[str, dict[str, Any]] = {}
    schema = sql.Identifier(FLOOR_SCHEMA)
    conn.execute(sql.SQL("drop schema if exists {} cascade").format(schema))
    conn.execute(sql.SQL("create schema {}").format(schema))
    try:
        for model, table in models:
            columns = registry.get(table)
            select = sql.SQL(", ").join(map(sql.Identifier, columns)) if columns else sql.SQL("*")
            statement = sql.SQL("create table {} as select {} from {}").format(
                sql.Identifier(FLOOR_SCHEMA, model), select, sql.Identifier(RAW_SCHEMA, table)
            )
            started = time.monotonic()
            with conn.cursor() as cur:
                cur.execute(statement)
                rows = cur.rowcount
            floor[model] = {
                "raw_table": f"{RAW_SCHEMA}.{table}",
                "columns": len(columns) if columns else "all",
                "rows": rows,
                "seconds": round(time.monotonic() - started, 4),
            }
    finally:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(schema))
    return floor


def _count(conn: psycopg.Connection, schema: str, table: str) -> int:
    return conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table))).fetchone()[0]


def raw_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Rows per raw table of the Synthea entities."""
    return {name: _count(conn, RAW_SCHEMA, name) for name in ENTITIES}


def omop_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Rows per omop table holding the extract's data (the vocabulary tables and views left out)."""
    tables = conn.execute(
        """
        select c.relname
        from pg_class as c
        inner join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = %s and c.relkind in ('r', 'p')
        order by c.relname
        """,
        (OMOP_SCHEMA,),
    ).fetchall()
    return {name: _count(conn, OMOP_SCHEMA, name) for (name,) in tables if name not in VOCABULARY_TABLES}


def _checksum(conn: psycopg.Connection, row: sql.Composable, source: sql.Composable) -> str:
    """``<rows>:<sum of md5(row)>`` over ``source``: the first 64 bits of each md5, summed as numeric."""
    rows, total = conn.execute(
        sql.SQL(
            "select count(*), coalesce(sum(('x' || left(md5(cast({} as text)), 16))::bit(64)::bigint::numeric), 0) "
            "from {}"
        ).format(row, source)
    ).fetchone()
    return f"{rows}:{total}"


def omop_checksums(conn: psycopg.Connection, tables: list[str]) -> dict[str, str]:
    """Per omop table, ``<rows>:<sum of the rows' md5>``: the same rows in any order give the same value.

    Each row's text form (``t::text``) is hashed; the first 64 bits of each md5 are summed as
    numeric, so the sum does not overflow and does not depend on row order or on the plan.
    Two builds with the same checksum for a table hold the same rows, byte for byte as text.
    """
    return {
        table: _checksum(conn, sql.SQL("t"), sql.SQL("{} as t").format(sql.Identifier(OMOP_SCHEMA, table)))
        for table in tables
    }


MAPPED_SCHEMA = "mapped"
# Columns that hold another table's id without a CDM foreign key (decision 0001).
IDS_WITHOUT_FOREIGN_KEY = {("cost", "payer_plan_period_id"): "payer_plan_period"}
# cost.cost_event_id holds the id of the table its cost_domain_id names.
COST_EVENT_TABLES = {
    "Visit": "visit_occurrence",
    "Drug": "drug_exposure",
    "Procedure": "procedure_occurrence",
    "Device": "device_exposure",
    "Measurement": "measurement",
    "Observation": "observation",
    "Condition": "condition_occurrence",
}
# Id maps whose source key starts with the OMOP person_id (`<person_id>|...`: visits, periods,
# eras), and the cost map, whose key is `<cost_domain_id>|<event id>` (models/mapped/).
PERSON_ID_KEYED_MAPS = frozenset(
    {"visit_occurrence", "observation_period", "payer_plan_period", "condition_era", "drug_era", "dose_era"}
)


def id_columns(models_yaml: Path | None = None) -> dict[tuple[str, str], str]:
    """(omop table, column) -> the omop table whose id the column holds.

    Read from the generated omop YAML: each primary key (constraint ``primary_key``), each
    foreign key DQD's isForeignKey or a relationships test checks, and IDS_WITHOUT_FOREIGN_KEY.
    """
    import yaml

    path = models_yaml or project_dir() / "models" / "omop" / "_omop__models.yml"
    refs = dict(IDS_WITHOUT_FOREIGN_KEY)
    for model in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
        for test in model.get("data_tests") or []:
            body = test.get("dq_field_check") if isinstance(test, dict) else None
            if body and body["arguments"]["check_name"] == "isForeignKey":
                for item in body["arguments"]["fields"]:
                    refs[(item["table"], item["field"])] = item["to_table"]
        for column in model.get("columns") or []:
            if any(c.get("type") == "primary_key" for c in column.get("constraints") or []):
                refs[(model["name"], column["name"])] = model["name"]
            for test in column.get("data_tests") or []:
                if isinstance(test, dict) and "relationships" in test:
                    target = test["relationships"]["arguments"]["to"]
                    refs[(model["name"], column["name"])] = target.removeprefix("ref('").removesuffix("')")
    return refs


def _id_map(target: str) -> sql.Composable:
    return sql.Identifier(MAPPED_SCHEMA, f"{target}_ids")


def content_keys(target: str, maps: set[str]) -> sql.Composable:
    """A relation (id, source_key) of ``target``'s id map with every OMOP id inside a key replaced by its own key.

    Most maps key a row by its content already (a pseudonym, an event hash); the keys of
    PERSON_ID_KEYED_MAPS start with a person_id and the cost keys end with an event id, which
    are numbers that depend on the order the rows were first seen.
    """
    if target in PERSON_ID_KEYED_MAPS and "person" in maps:
        return sql.SQL(
            "(select m.id, coalesce(p.source_key, 'id:' || split_part(m.source_key, '|', 1))"
            " || substr(m.source_key, strpos(m.source_key, '|')) as source_key"
            " from {} as m left join {} as p on p.id = cast(split_part(m.source_key, '|', 1) as bigint))"
        ).format(_id_map(target), _id_map("person"))
    if target == "cost":
        joins, keys = [], []
        for n, (domain, event_table) in enumerate(COST_EVENT_TABLES.items()):
            if event_table in maps:
                alias = sql.Identifier(f"e{n}")
                joins.append(
                    sql.SQL(
                        " left join {} as {} on split_part(m.source_key, '|', 1) = {}"
                        " and {}.id = cast(split_part(m.source_key, '|', 2) as bigint)"
                    ).format(content_keys(event_table, maps), alias, sql.Literal(domain), alias)
                )
                keys.append(sql.SQL("{}.source_key").format(alias))
        keys.append(sql.SQL("'id:' || split_part(m.source_key, '|', 2)"))
        return sql.SQL(
            "(select m.id, split_part(m.source_key, '|', 1) || '|' || coalesce({}) as source_key from {} as m{})"
        ).format(sql.SQL(", ").join(keys), _id_map("cost"), sql.Composed(joins))
    return _id_map(target)


def content_checksums(
    conn: psycopg.Connection, tables: list[str], refs: dict[tuple[str, str], str] | None = None
) -> dict[str, str]:
    """Like omop_checksums, with every OMOP id replaced by its content key (:func:`content_keys`).

    Two builds of the same data whose ids were numbered in another order (batch after batch,
    or all at once) have the same content checksums. An id column is one of ``refs``
    (:func:`id_columns`) whose table has an id map (``mapped.<table>_ids``), and
    ``cost.cost_event_id`` (through the map of its cost_domain_id's table); an id its map lacks
    stays visible as ``id:<value>``.
    """
    refs = id_columns() if refs is None else refs
    maps = {
        name.removesuffix("_ids")
        for (name,) in conn.execute(
            "select table_name from information_schema.tables where table_schema = %s and table_name like %s",
            (MAPPED_SCHEMA, "%\\_ids"),
        )
    }
    sums = {}
    for table in tables:
        columns = [
            name
            for (name,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
                " order by ordinal_position",
                (OMOP_SCHEMA, table),
            )
        ]
        values: list[sql.Composable] = []
        joins: list[sql.Composable] = []
        for n, column in enumerate(columns):
            value = sql.SQL("t.{}").format(sql.Identifier(column))
            if table == "cost" and column == "cost_event_id":
                targets = [(domain, target) for domain, target in COST_EVENT_TABLES.items() if target in maps]
            elif refs.get((table, column)) in maps:
                targets = [(None, refs[(table, column)])]
            else:
                values.append(value)
                continue
            keys = []
            for domain, target in targets:
                alias = sql.Identifier(f"m{n}_{target}")
                on = sql.SQL("{} = {}.id").format(value, alias)
                if domain is not None:
                    on = sql.SQL("t.cost_domain_id = {} and {}").format(sql.Literal(domain), on)
                joins.append(sql.SQL(" left join {} as {} on {}").format(content_keys(target, maps), alias, on))
                keys.append(sql.SQL("{}.source_key").format(alias))
            values.append(sql.SQL("coalesce({}, 'id:' || {})").format(sql.SQL(", ").join(keys), value))
        row = sql.SQL("row({})").format(sql.SQL(", ").join(values))
        source = sql.SQL("{} as t{}").format(sql.Identifier(OMOP_SCHEMA, table), sql.Composed(joins))
        sums[table] = _checksum(conn, row, source)
    return sums


# Tables that record the run itself (the time of the last load, the build day): they differ
# between two runs by design, so --compare leaves them out.
RUN_STAMPED_TABLES = frozenset({"metadata", "cdm_source"})


def compare_checksums(report: dict[str, Any], previous: dict[str, Any]) -> list[str]:
    """The differences between two benchmark reports' OMOP checksums, per size both measured (empty when equal).

    The tables of RUN_STAMPED_TABLES are not compared.
    """
    before = {r["patients"]: r for r in previous.get("results", [])}
    findings = []
    if not set(before) & {r["patients"] for r in report["results"]}:
        return ["no size was measured in both runs: give the same --patients"]
    for result in report["results"]:
        old = before.get(result["patients"])
        if old is None:
            continue
        if previous.get("seed") != report["seed"]:
            findings.append(f"{result['patients']:,} patients: the runs used different seeds; not compared")
            continue
        new_sums, old_sums = result.get("omop_checksums", {}), old.get("omop_checksums", {})
        for table in sorted((set(new_sums) | set(old_sums)) - RUN_STAMPED_TABLES):
            if new_sums.get(table) != old_sums.get(table):
                findings.append(
                    f"{result['patients']:,} patients: omop.{table} differs "
                    f"(rows:checksum {old_sums.get(table, 'absent')} before, {new_sums.get(table, 'absent')} now)"
                )
    return findings


def machine_info(conn: psycopg.Connection) -> dict[str, Any]:
    """The machine, the server and the checkout the figures were measured on."""
    cpu_model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    settings = {name: conn.execute("select current_setting(%s)", (name,)).fetchone()[0] for name in SERVER_SETTINGS}
    return {
        "cpu_count": os.cpu_count(),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "cpu_model": cpu_model or platform.processor(),
        "memory_mib": round(psutil.virtual_memory().total / MIB),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "dbt_core": metadata.version("dbt-core"),
        "dbt_postgres": metadata.version("dbt-postgres"),
        "postgresql": conn.execute("select current_setting('server_version')").fetchone()[0],
        "server_settings": settings,
        "git_commit": git_commit(project_dir()),
    }


# --- one size ---------------------------------------------------------------------------------


@contextmanager
def _step(console: Console, patients: int, what: str) -> Iterator[dict[str, float]]:
    """Times a step and prints one line when it ends; yields a dict receiving ``seconds``."""
    timing: dict[str, float] = {}
    started = time.monotonic()
    yield timing
    timing["seconds"] = time.monotonic() - started
    console.print(f"  {patients:,} patients: {what} {timing['seconds']:.1f}s", highlight=False)


def bench_size(
    srv: db.Server,
    patients: int,
    seed: int,
    keep: bool,
    sampler: MemorySampler,
    registry: dict[str, list[str]],
    console: Console,
    follow_up: float | None = None,
) -> dict[str, Any]:
    """Generate, load, build and measure ``patients`` patients in a fresh database; returns its record.

    ``registry`` caches the raw columns per raw table across sizes (filled on first use).
    """
    name = database_name(patients)
    db.drop_database(srv, name)
    db.ensure_database(srv, name)
    work = Path(tempfile.mkdtemp(prefix=f"ehr2omop-bench-{patients}-"))
    try:
        return _measure(srv, name, work, patients, seed, sampler, registry, console, follow_up) | {
            "database": name,
            "kept": keep,
        }
    finally:
        sampler.phase = "cleanup"
        shutil.rmtree(work, ignore_errors=True)
        if not keep:
            db.drop_database(srv, name)


def _measure(
    srv: db.Server,
    name: str,
    work: Path,
    patients: int,
    seed: int,
    sampler: MemorySampler,
    registry: dict[str, list[str]],
    console: Console,
    follow_up: float | None = None,
) -> dict[str, Any]:
    seconds: dict[str, float] = {}
    extract, follow_up_dir = work / "extract", work / "follow-up"
    sampler.phase = "generate"
    with _step(console, patients, "generated") as t, _progress(console, patients) as progress:
        generated = generate_synthea(extract, patients=patients, seed=seed, progress=progress)
        if follow_up is not None:
            # the latest share of the encounters is the next delivery, built by a batch build below
            split = split_follow_up(extract, follow_up_dir, follow_up)
            generated = {name: kept for name, (kept, _moved) in split.items()}
    seconds["generate"] = t["seconds"]

    with psycopg.connect(srv.url(name), autocommit=True) as conn:
        sampler.phase = "vocab"
        with _step(console, patients, "demo vocabulary loaded") as t:
            load_vocabulary(conn, demo_vocabulary_dir())
        seconds["vocab"] = t["seconds"]
        sampler.phase = "load"
        with _step(console, patients, f"{sum(generated.values()):,} rows loaded") as t:
            _, loaded = load_synthea(conn, extract)
        seconds["load"] = t["seconds"]
    shutil.rmtree(extract, ignore_errors=True)  # the raw tables hold it now

    dbt = DbtSession(name, work)
    sampler.phase = "parse"
    parse = dbt.run("parse", "--no-partial-parse")
    if parse.exit_code != 0:
        raise UserError(f"`dbt parse` failed (exit {parse.exit_code}) at {patients:,} patients: see dbt's errors above")
    seconds["parse"] = parse.seconds
    phases: dict[str, Phase] = {}
    for command in BUILD_PHASES:
        sampler.phase = command
        phases[command] = phase = dbt.run(command)
        seconds[command] = phase.seconds
        counts = ", ".join(f"{n} {status}" for status, n in sorted(phase.statuses.items()))
        console.print(f"  {patients:,} patients: dbt {command} {phase.seconds:.1f}s ({counts})", highlight=False)
        if phase.exit_code != 0 and command != "test":
            raise UserError(
                f"`dbt {command}` failed (exit {phase.exit_code}) at {patients:,} patients: see dbt's errors above"
            )
    if phases["test"].exit_code != 0:
        console.print(
            f"  [yellow]warning:[/yellow] dbt test failed at {patients:,} patients "
            f"(exit {phases['test'].exit_code}); the figures are kept, the failures are in the JSON",
            highlight=False,
        )

    sampler.phase = "registry"
    if not registry:
        registry.update(dbt.raw_columns())
    models = raw_staging_models(dbt.manifest())
    with psycopg.connect(srv.url(name), autocommit=True) as conn:
        sampler.phase = "floor"
        with _step(console, patients, f"copy floor ({len(models)} staging tables)") as t:
            floor = copy_floor(conn, models, registry)
        sampler.phase = "count"
        raw = raw_counts(conn)
        omop = omop_counts(conn)
        sampler.phase = "checksum"
        with _step(console, patients, "checksums of the omop tables") as t:
            checksums = omop_checksums(conn, list(omop))

    batch = _batch_build(srv, name, dbt, follow_up_dir, patients, sampler, console) if follow_up is not None else None

    model_seconds = {n["unique_id"].rsplit(".", 1)[-1]: n["seconds"] for n in phases["run"].nodes}
    for model, copy in floor.items():
        # the same staging table built by dbt: how far each one is from its own floor
        copy["model_seconds"] = round(model_seconds.get(model, 0.0), 3)
        copy["model_over_floor"] = round(copy["model_seconds"] / copy["seconds"], 1) if copy["seconds"] else None
    run_seconds = sum(seconds[p] for p in RUN_PHASES)
    build_seconds = run_seconds + seconds["test"]
    floor_seconds = sum(f["seconds"] for f in floor.values())
    build_peaks = sampler.peak(BUILD_PHASES)
    return {
        "patients": patients,
        "raw_rows": sum(raw.values()),
        "omop_rows": sum(omop.values()),
        "load_seconds": seconds["load"],
        "vocab_seconds": seconds["vocab"],
        "run_seconds": run_seconds,
        "test_seconds": seconds["test"],
        "build_seconds": build_seconds,
        "floor_seconds": floor_seconds,
        "build_over_floor": build_seconds / floor_seconds if floor_seconds else None,
        "run_over_floor": run_seconds / floor_seconds if floor_seconds else None,
        "peak_dbt_mib": round(build_peaks.dbt_rss / MIB, 1),
        "peak_db_mib": round(build_peaks.db_rss_sum / MIB, 1),
        "build_seconds_per_1k_patients": build_seconds / patients * 1000,
        "batch_build_seconds": batch["build_seconds"] if batch else None,
        "batch_build_percent": 100 * batch["build_seconds"] / build_seconds if batch else None,
        "dbt_overhead_seconds": sum(
            phase.seconds - phase.dbt_elapsed_seconds for phase in phases.values() if phase.dbt_elapsed_seconds
        ),
        "generated_rows": sum(generated.values()),
        "loaded_rows": sum(r.rows for r in loaded),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "memory": {
            "during_build": build_peaks.as_mib(),
            "per_phase": {phase: peaks.as_mib() for phase, peaks in sampler.peaks.items() if phase != "setup"},
        },
        "dbt": {
            phase_name: {
                "seconds": round(phase.seconds, 3),
                "dbt_elapsed_seconds": phase.dbt_elapsed_seconds,
                "exit_code": phase.exit_code,
                "statuses": phase.statuses,
            }
            for phase_name, phase in phases.items()
        },
        "slowest_models": _slowest(phases["run"].nodes, ("model",), TOP_MODELS),
        "slowest_tests": _slowest(phases["test"].nodes, ("test", "unit_test"), TOP_TESTS),
        "failed_tests": [n["unique_id"] for n in phases["test"].nodes if n["status"] in ("fail", "error")],
        "warned_tests": [n["unique_id"] for n in phases["test"].nodes if n["status"] == "warn"],
        "floor": floor,
        "raw_tables": raw,
        "omop_tables": omop,
        "omop_checksums": checksums,
        "batch": None
        if batch is None
        else batch | {"share": follow_up, "run_percent": 100 * batch["run_seconds"] / run_seconds},
    }


def _batch_build(
    srv: db.Server,
    name: str,
    dbt: DbtSession,
    follow_up_dir: Path,
    patients: int,
    sampler: MemorySampler,
    console: Console,
) -> dict[str, Any]:
    """Load the follow-up batch and run a batch build of it (the build phases with batch_mode)."""
    with psycopg.connect(srv.url(name), autocommit=True) as conn:
        sampler.phase = "load"
        with _step(console, patients, "follow-up loaded") as t:
            _, loaded = load_synthea(conn, follow_up_dir)
        load_seconds = t["seconds"]
    seconds: dict[str, float] = {}
    phases: dict[str, Phase] = {}
    for command in BUILD_PHASES:
        sampler.phase = f"batch {command}"
        phases[command] = phase = dbt.run(command, *BATCH_MODE_VARS)
        seconds[command] = phase.seconds
        console.print(f"  {patients:,} patients: batch dbt {command} {phase.seconds:.1f}s", highlight=False)
        if phase.exit_code != 0 and command != "test":
            raise UserError(f"batch `dbt {command}` failed (exit {phase.exit_code}) at {patients:,} patients")
    with psycopg.connect(srv.url(name), autocommit=True) as conn:
        persons = _count(conn, "staging", "stg_synthea__batch_patients")
    run_seconds = sum(seconds[p] for p in RUN_PHASES)
    return {
        "raw_rows": sum(r.rows for r in loaded),
        "patients": persons,
        "load_seconds": load_seconds,
        "run_seconds": run_seconds,
        "test_seconds": seconds["test"],
        "build_seconds": run_seconds + seconds["test"],
        "test_exit_code": phases["test"].exit_code,
        "slowest_models": _slowest(phases["run"].nodes, ("model",), TOP_MODELS),
    }


@contextmanager
def _progress(console: Console, patients: int) -> Iterator[Callable[[int], None]]:
    with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("generating", total=patients)
        yield lambda done: progress.update(task, completed=done)


# --- the whole run ----------------------------------------------------------------------------


def run_bench(
    sizes: list[int],
    seed: int,
    out_path: Path,
    keep: bool,
    console: Console,
    out: Console,
    follow_up: float | None = None,
) -> dict[str, Any]:
    """Benchmark each size in turn on the embedded server; print the table, write the JSON."""
    if os.environ.get("EHR2OMOP_DATABASE_URL"):
        raise UserError(
            "the benchmark runs on the embedded server only, and EHR2OMOP_DATABASE_URL points elsewhere: unset it"
        )
    srv = db.start()
    with psycopg.connect(srv.url(), autocommit=True) as conn:
        machine = machine_info(conn)
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "finished_at": None,
        "seed": seed,
        "sizes": sizes,
        "follow_up": follow_up,
        "machine": machine,
        "definitions": DEFINITIONS,
        "results": [],
    }
    registry: dict[str, list[str]] = {}
    with MemorySampler(postmaster_pid(srv)) as sampler:
        for patients in sizes:
            console.print(f"[bold]{patients:,} patients[/bold] (database {database_name(patients)})", highlight=False)
            sampler.peaks.clear()
            report["results"].append(bench_size(srv, patients, seed, keep, sampler, registry, console, follow_up))
            write_json(report, out_path)
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    write_json(report, out_path)
    print_table(report, out)
    return report


def write_json(report: dict[str, Any], path: Path) -> None:
    """Write ``report`` to ``path`` whole or not at all (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    os.replace(part, path)


def print_table(report: dict[str, Any], out: Console) -> None:
    """One row per size, the columns of :data:`TABLE_COLUMNS`; then the settings they depend on.

    No figure is ever cut to fit: where the console is narrower than the table, a terminal gets
    it turned (one row per figure, one column per size) and a pipe or file gets it at full width.
    """
    machine = report["machine"]
    results = report["results"]
    title = f"ehr2omop bench, seed {report['seed']}: build = dbt seed + run + snapshot + test"
    table = Table(title=title)
    for header, _, _ in TABLE_COLUMNS:
        table.add_column(header, justify="right", no_wrap=True)
    for result in results:
        table.add_row(*(_cell(fmt, result[key]) for _, key, fmt in TABLE_COLUMNS))
    natural = Measurement.get(out, out.options.update_width(10_000), table).maximum
    if natural <= out.width:
        out.print(table)
    elif not out.is_terminal:
        Console(file=out.file, width=natural, color_system=None).print(table)
    else:
        turned = Table(title=title)
        turned.add_column("figure")
        for result in results:
            turned.add_column(f"{result['patients']:,}", justify="right", no_wrap=True)
        for header, key, fmt in TABLE_COLUMNS[1:]:
            name = header.replace("\n/", "/").replace("\n", " ")
            turned.add_row(name, *(_cell(fmt, result[key]) for result in results))
        out.print(turned)
    settings = ", ".join(f"{k} {v}" for k, v in machine["server_settings"].items())
    out.print(
        f"{machine['cpu_count']} CPUs, {machine['memory_mib']:,} MiB, PostgreSQL {machine['postgresql']} ({settings}). "
        "build/floor: the build's seconds over those of copying the staging layer's input once. "
        "peak db MiB sums the RSS of every server process, shared buffers once per process "
        "(the JSON's memory has the largest process and the PSS sum).",
        highlight=False,
        soft_wrap=True,
    )


def _cell(fmt: str, value: Any) -> str:
    return "-" if value is None else fmt.format(value)
