"""Loading an Athena vocabulary download into the ``vocab`` schema, atomically.

Athena files are tab-separated, unquoted (text may hold quote characters), with
YYYYMMDD dates. The whole load is one transaction: the tables are emptied,
filled with COPY, indexed and analysed, so readers see either the old vocabulary
or the new one, and a failed load leaves the old one in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from ehr2omop import __version__
from ehr2omop.audit import recorded_load
from ehr2omop.errors import UserError
from ehr2omop.extract import CHUNK, Member, list_members

VOCAB_SCHEMA = "vocab"
LOADER = f"ehr2omop-vocab-load/{__version__}"

# OMOP CDM v5.4 vocabulary tables: (column, PostgreSQL type) in CDM order.
TABLES: dict[str, list[tuple[str, str]]] = {
    "concept": [
        ("concept_id", "integer not null"),
        ("concept_name", "varchar(255) not null"),
        ("domain_id", "varchar(20) not null"),
        ("vocabulary_id", "varchar(20) not null"),
        ("concept_class_id", "varchar(20) not null"),
        ("standard_concept", "varchar(1)"),
        ("concept_code", "varchar(50) not null"),
        ("valid_start_date", "date not null"),
        ("valid_end_date", "date not null"),
        ("invalid_reason", "varchar(1)"),
    ],
    "vocabulary": [
        ("vocabulary_id", "varchar(20) not null"),
        ("vocabulary_name", "varchar(255) not null"),
        ("vocabulary_reference", "varchar(255)"),
        ("vocabulary_version", "varchar(255)"),
        ("vocabulary_concept_id", "integer not null"),
    ],
    "domain": [
        ("domain_id", "varchar(20) not null"),
        ("domain_name", "varchar(255) not null"),
        ("domain_concept_id", "integer not null"),
    ],
    "concept_class": [
        ("concept_class_id", "varchar(20) not null"),
        ("concept_class_name", "varchar(255) not null"),
        ("concept_class_concept_id", "integer not null"),
    ],
    "concept_relationship": [
        ("concept_id_1", "integer not null"),
        ("concept_id_2", "integer not null"),
        ("relationship_id", "varchar(20) not null"),
        ("valid_start_date", "date not null"),
        ("valid_end_date", "date not null"),
        ("invalid_reason", "varchar(1)"),
    ],
    "relationship": [
        ("relationship_id", "varchar(20) not null"),
        ("relationship_name", "varchar(255) not null"),
        ("is_hierarchical", "varchar(1) not null"),
        ("defines_ancestry", "varchar(1) not null"),
        ("reverse_relationship_id", "varchar(20) not null"),
        ("relationship_concept_id", "integer not null"),
    ],
    "concept_synonym": [
        ("concept_id", "integer not null"),
        ("concept_synonym_name", "varchar(1000) not null"),
        ("language_concept_id", "integer not null"),
    ],
    "concept_ancestor": [
        ("ancestor_concept_id", "integer not null"),
        ("descendant_concept_id", "integer not null"),
        ("min_levels_of_separation", "integer not null"),
        ("max_levels_of_separation", "integer not null"),
    ],
    "drug_strength": [
        ("drug_concept_id", "integer not null"),
        ("ingredient_concept_id", "integer not null"),
        ("amount_value", "numeric"),
        ("amount_unit_concept_id", "integer"),
        ("numerator_value", "numeric"),
        ("numerator_unit_concept_id", "integer"),
        ("denominator_value", "numeric"),
        ("denominator_unit_concept_id", "integer"),
        ("box_size", "integer"),
        ("valid_start_date", "date not null"),
        ("valid_end_date", "date not null"),
        ("invalid_reason", "varchar(1)"),
    ],
}

# Files a download may lack (Athena leaves them out for some vocabulary selections).
OPTIONAL = {"concept_synonym", "drug_strength"}

# Keys and the indexes the vocabulary joins use: (name suffix, definition).
INDEXES: dict[str, list[tuple[str, str]]] = {
    "concept": [
        ("pk", "primary key (concept_id)"),
        ("code", "index (concept_code, vocabulary_id)"),
        ("domain", "index (domain_id, standard_concept)"),
    ],
    "vocabulary": [("pk", "primary key (vocabulary_id)")],
    "domain": [("pk", "primary key (domain_id)")],
    "concept_class": [("pk", "primary key (concept_class_id)")],
    "relationship": [("pk", "primary key (relationship_id)")],
    "concept_relationship": [
        ("pk", "primary key (concept_id_1, relationship_id, concept_id_2)"),
        ("c2", "index (concept_id_2, relationship_id)"),
    ],
    "concept_synonym": [("concept", "index (concept_id)")],
    "concept_ancestor": [
        ("pk", "primary key (ancestor_concept_id, descendant_concept_id)"),
        ("descendant", "index (descendant_concept_id)"),
    ],
    "drug_strength": [
        ("pk", "primary key (drug_concept_id, ingredient_concept_id)"),
        ("ingredient", "index (ingredient_concept_id)"),
    ],
}


@dataclass
class VocabResult:
    version: str
    rows: dict[str, int]


def demo_vocabulary_dir() -> Path:
    """The small curated vocabulary shipped with the project, for the demo."""
    return Path(str(resources.files("ehr2omop") / "demo_vocabulary"))


def _index_sql(table: str, suffix: str, definition: str) -> sql.Composed:
    name = sql.Identifier(f"{table}__{suffix}")
    target = sql.Identifier(VOCAB_SCHEMA, table)
    if definition.startswith("primary key"):
        return sql.SQL("alter table {} add constraint {} {}").format(target, name, sql.SQL(definition))
    return sql.SQL("create index {} on {} {}").format(name, target, sql.SQL(definition.removeprefix("index ")))


def _plan(source: Path) -> dict[str, Member | None]:
    members = {m.name.lower().removesuffix(".csv"): m for m in list_members(source)}
    missing = [t.upper() + ".csv" for t in TABLES if t not in members and t not in OPTIONAL]
    if missing:
        raise UserError(f"{source}: missing {', '.join(missing)}; give the unzipped Athena download (or its zip)")
    for table, columns in TABLES.items():
        member = members.get(table)
        if member is None:
            continue
        header = [h.lower() for h in member.header(delimiter="\t")]
        expected = [c for c, _ in columns]
        absent = [c for c in expected if c not in header]
        if absent:
            raise UserError(
                f"{source / member.name}: missing column(s) {', '.join(absent)}; is this a tab-separated Athena file?"
            )
    return {t: members.get(t) for t in TABLES}


def _ensure_tables(conn: psycopg.Connection) -> None:
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(VOCAB_SCHEMA)))
    for table, columns in TABLES.items():
        cols = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns)
        conn.execute(sql.SQL("create table if not exists {} ({})").format(sql.Identifier(VOCAB_SCHEMA, table), cols))
    conn.execute(
        sql.SQL(
            """
            create table if not exists {} (
                loaded_at timestamptz not null default now(),
                source text not null,
                vocabulary_version text,
                row_counts jsonb not null,
                loader_version text not null
            )
            """
        ).format(sql.Identifier(VOCAB_SCHEMA, "vocabulary_load"))
    )


def _drop_indexes(conn: psycopg.Connection, table: str) -> None:
    for suffix, definition in INDEXES[table]:
        name = f"{table}__{suffix}"
        if definition.startswith("primary key"):
            conn.execute(
                sql.SQL("alter table {} drop constraint if exists {}").format(
                    sql.Identifier(VOCAB_SCHEMA, table), sql.Identifier(name)
                )
            )
        else:
            conn.execute(sql.SQL("drop index if exists {}").format(sql.Identifier(VOCAB_SCHEMA, name)))


def _copy(conn: psycopg.Connection, table: str, member: Member, on_bytes: Callable[[int], None]) -> int:
    header = [h.lower() for h in member.header(delimiter="\t")]
    known = {c for c, _ in TABLES[table]}
    target = sql.Identifier(VOCAB_SCHEMA, table)
    extra = [c for c in header if c not in known]
    if extra:
        raise UserError(
            f"{member.source / member.name}: unexpected column(s) {', '.join(extra)}; "
            "expected the OMOP CDM v5.4 vocabulary layout"
        )
    copy_sql = sql.SQL(
        "copy {} ({}) from stdin with (format csv, delimiter E'\\t', quote E'\\x01', header true,"
        " null '', encoding 'UTF8')"
    ).format(target, sql.SQL(", ").join(sql.Identifier(c) for c in header))
    with conn.cursor() as cur:
        try:
            with cur.copy(copy_sql) as copy, member.open() as fh:
                while chunk := fh.read(CHUNK):
                    copy.write(chunk)
                    on_bytes(len(chunk))
        except psycopg.Error as exc:
            diag = exc.diag
            raise UserError(
                f"{member.source / member.name}: {(diag.message_primary or str(exc)).strip()}"
                f"{' (' + diag.context.strip().splitlines()[0] + ')' if diag.context else ''}; "
                "the previous vocabulary is unchanged"
            ) from exc
        return cur.rowcount


def load_vocabulary(
    conn: psycopg.Connection,
    source: Path,
    on_total: Callable[[int], None] = lambda n: None,
    on_bytes: Callable[[int], None] = lambda n: None,
) -> VocabResult:
    """Replace the vocabulary in ``vocab`` with the download at ``source``, in one transaction.

    Every call is recorded in ``audit.load_event``, a refused or failed one too.
    """
    with recorded_load(conn, "vocabulary", source, LOADER) as event:
        result = _load(conn, source, on_total, on_bytes)
        event.vocabulary_version = result.version
        event.files = [{"table": table, "rows": rows} for table, rows in result.rows.items()]
        event.row_count = sum(result.rows.values())
    return result


def _load(
    conn: psycopg.Connection,
    source: Path,
    on_total: Callable[[int], None],
    on_bytes: Callable[[int], None],
) -> VocabResult:
    members = _plan(source)
    on_total(sum(m.size for m in members.values() if m is not None))
    rows: dict[str, int] = {}
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('ehr2omop.vocab'))")
        _ensure_tables(conn)
        for table, member in members.items():
            conn.execute(sql.SQL("truncate {}").format(sql.Identifier(VOCAB_SCHEMA, table)))
            _drop_indexes(conn, table)
            rows[table] = _copy(conn, table, member, on_bytes) if member is not None else 0
            for suffix, definition in INDEXES[table]:
                try:
                    conn.execute(_index_sql(table, suffix, definition))
                except psycopg.errors.UniqueViolation as exc:
                    raise UserError(
                        f"{source}: {table.upper()} has duplicate keys ({exc.diag.message_detail}); "
                        "the previous vocabulary is unchanged"
                    ) from exc
        version_row = conn.execute(
            sql.SQL("select vocabulary_version from {} where vocabulary_id = 'None'").format(
                sql.Identifier(VOCAB_SCHEMA, "vocabulary")
            )
        ).fetchone()
        version = version_row[0] if version_row and version_row[0] else "unknown"
        conn.execute(
            sql.SQL(
                "insert into {} (source, vocabulary_version, row_counts, loader_version) values (%s, %s, %s, %s)"
            ).format(sql.Identifier(VOCAB_SCHEMA, "vocabulary_load")),
            (str(source), version, Jsonb(rows), LOADER),
        )
    for table in TABLES:
        conn.execute(sql.SQL("analyze {}").format(sql.Identifier(VOCAB_SCHEMA, table)))
    return VocabResult(version=version, rows=rows)
