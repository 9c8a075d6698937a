"""Raw landing of a Synthea CSV extract: COPY every file as delivered into ``raw.<entity>``.

Every column is text; the loader adds batch id, file name, line number and load time.
Each file loads in its own transaction and is recorded in ``raw.load_manifest``.
All checks (headers, manifest conflicts) run before the first row is written, so a
refused extract leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from ehr2omop import __version__
from ehr2omop.audit import recorded_load
from ehr2omop.errors import UserError
from ehr2omop.extract import CHUNK, Member, list_members
from ehr2omop.synthea import ENTITIES, RAW_META_COLUMNS, Entity

RAW_SCHEMA = "raw"
MANIFEST = "load_manifest"
LOADER = f"ehr2omop-load-synthea/{__version__}"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass
class FileResult:
    file_name: str
    entity: str
    rows: int
    status: str  # loaded | unchanged | skipped
    note: str = ""


@dataclass
class Planned:
    member: Member
    entity: Entity
    columns: list[str]
    sha256: str


def _manifest_ddl() -> sql.Composed:
    return sql.SQL(
        """
        create table if not exists {schema}.{manifest} (
            batch_id text not null,
            file_name text not null,
            entity text not null,
            sha256 text not null,
            row_count bigint not null,
            byte_count bigint not null,
            columns text[] not null,
            loaded_at timestamptz not null default now(),
            loader_version text not null,
            primary key (batch_id, file_name)
        )
        """
    ).format(schema=sql.Identifier(RAW_SCHEMA), manifest=sql.Identifier(MANIFEST))


def ensure_raw_tables(conn: psycopg.Connection) -> None:
    """Create the raw schema, the manifest and one table per Synthea entity (all known columns)."""
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(RAW_SCHEMA)))
    conn.execute(_manifest_ddl())
    for entity in ENTITIES.values():
        table = sql.Identifier(RAW_SCHEMA, entity.name)
        seq = sql.Identifier(RAW_SCHEMA, f"{entity.name}__line_seq")
        cols = [sql.SQL("{} text").format(sql.Identifier(c)) for c in entity.known_columns]
        meta = [
            sql.SQL("_batch_id text not null default current_setting('ehr2omop.batch_id')"),
            sql.SQL("_file_name text not null default current_setting('ehr2omop.file_name')"),
            sql.SQL("_line_number bigint not null default nextval({})").format(
                sql.Literal(f"{RAW_SCHEMA}.{entity.name}__line_seq")
            ),
            sql.SQL("_loaded_at timestamptz not null default now()"),
        ]
        assert len(meta) == len(RAW_META_COLUMNS)
        conn.execute(sql.SQL("create sequence if not exists {}").format(seq))
        conn.execute(sql.SQL("create table if not exists {} ({})").format(table, sql.SQL(", ").join(cols + meta)))


def _normalise_header(member: Member, header: list[str]) -> list[str]:
    columns = [h.lower() for h in header]
    for col in columns:
        if not _IDENT.match(col):
            raise UserError(f"{member.name}: header column {col!r} is not a plain column name; fix the header line")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise UserError(f"{member.name}: header repeats column(s) {', '.join(dupes)}; fix the header line")
    if any(c.startswith("_") for c in columns):
        raise UserError(f"{member.name}: header columns may not start with '_' (reserved for the loader)")
    return columns


def plan(source: Path) -> tuple[list[Planned], list[str]]:
    """Check every file of the extract before loading any: returns the plan and ignored file names."""
    members = list_members(source)
    planned: list[Planned] = []
    ignored: list[str] = []
    for member in members:
        entity = ENTITIES.get(member.name.lower().removesuffix(".csv"))
        if entity is None:
            ignored.append(member.name)
            continue
        header = member.header()
        missing = entity.missing_required(header)
        if missing:
            raise UserError(
                f"{source / member.name}: missing required column(s) {', '.join(missing)}; "
                f"this is not a Synthea v3.x {entity.name} file, re-export it"
            )
        planned.append(Planned(member, entity, _normalise_header(member, header), member.sha256()))
    required = [e.name for e in ENTITIES.values() if e.required_file]
    present = {p.entity.name for p in planned}
    absent = [f"{name}.csv" for name in required if name not in present]
    if absent:
        raise UserError(f"{source}: required file(s) {', '.join(absent)} not found; is this a Synthea CSV export?")
    # patients first, then the rest in name order: parents before children reads well in logs
    planned.sort(key=lambda p: (p.entity.name != "patients", p.entity.name))
    return planned, ignored


def default_batch_id(planned: list[Planned]) -> str:
    """A batch id derived from the content: the same extract always gets the same id."""
    digest = hashlib.sha256()
    for p in sorted(planned, key=lambda p: p.member.name.lower()):
        digest.update(f"{p.member.name.lower()}:{p.sha256}\n".encode())
    return "b" + digest.hexdigest()[:12]


def _decide(conn: psycopg.Connection, batch_id: str, p: Planned) -> tuple[str, str]:
    """('load', '') or ('unchanged', why) for one planned file; raises on a conflict."""
    table = sql.Identifier(RAW_SCHEMA, MANIFEST)
    same_key = conn.execute(
        sql.SQL("select sha256 from {} where batch_id = %s and file_name = %s").format(table),
        (batch_id, p.member.name),
    ).fetchone()
    if same_key:
        if same_key[0] == p.sha256:
            return "unchanged", "already loaded"
        raise UserError(
            f"{p.member.name}: batch {batch_id} already holds a different {p.member.name} "
            f"(sha256 {same_key[0][:12]}…); load it under a new --batch-id"
        )
    elsewhere = conn.execute(
        sql.SQL("select batch_id from {} where sha256 = %s and entity = %s order by loaded_at limit 1").format(table),
        (p.sha256, p.entity.name),
    ).fetchone()
    if elsewhere:
        return "unchanged", f"identical file already loaded in batch {elsewhere[0]}"
    return "load", ""


def _copy_file(conn: psycopg.Connection, batch_id: str, p: Planned, on_bytes: Callable[[int], None]) -> int:
    """Load one file in one transaction; returns the row count."""
    table = sql.Identifier(RAW_SCHEMA, p.entity.name)
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"ehr2omop.raw.{p.entity.name}",))
        for col in p.columns:
            if col not in p.entity.known_columns:
                conn.execute(
                    sql.SQL("alter table {} add column if not exists {} text").format(table, sql.Identifier(col))
                )
        conn.execute(
            "select set_config('ehr2omop.batch_id', %s, true), set_config('ehr2omop.file_name', %s, true),"
            " setval(%s, 2, false)",
            (batch_id, p.member.name, f"{RAW_SCHEMA}.{p.entity.name}__line_seq"),
        )
        copy_sql = sql.SQL("copy {} ({}) from stdin with (format csv, header true, encoding 'UTF8')").format(
            table, sql.SQL(", ").join(sql.Identifier(c) for c in p.columns)
        )
        with conn.cursor() as cur:
            try:
                with cur.copy(copy_sql) as copy, p.member.open() as fh:
                    while chunk := fh.read(CHUNK):
                        copy.write(chunk)
                        on_bytes(len(chunk))
            except psycopg.Error as exc:
                raise UserError(_copy_error(p.member.name, exc)) from exc
            rows = cur.rowcount
        conn.execute(
            sql.SQL(
                "insert into {} (batch_id, file_name, entity, sha256, row_count, byte_count, columns,"
                " loader_version) values (%s, %s, %s, %s, %s, %s, %s, %s)"
            ).format(sql.Identifier(RAW_SCHEMA, MANIFEST)),
            (batch_id, p.member.name, p.entity.name, p.sha256, rows, p.member.size, p.columns, LOADER),
        )
    conn.execute(sql.SQL("analyze {}").format(table))
    return rows


def _copy_error(file_name: str, exc: psycopg.Error) -> str:
    diag = exc.diag
    primary = (diag.message_primary or str(exc)).strip()
    where = ""
    if diag.context:
        match = re.search(r"line (\d+)", diag.context)
        if match:
            where = f" at line {match.group(1)}"
    return f"{file_name}{where}: {primary}; fix the file and load it again (nothing of it was loaded)"


def load_synthea(
    conn: psycopg.Connection,
    source: Path,
    batch_id: str | None = None,
    on_total: Callable[[int], None] = lambda n: None,
    on_bytes: Callable[[int], None] = lambda n: None,
) -> tuple[str, list[FileResult]]:
    """Land a Synthea extract; returns the batch id and one result per file.

    ``on_total`` gets the byte count to load once it is known, ``on_bytes`` each chunk sent.
    Every call is recorded in ``audit.load_event``, a refused or failed one too.
    """
    with recorded_load(conn, "synthea", source, LOADER) as event:
        event.batch_id = batch_id
        planned, ignored = plan(source)
        batch = batch_id or default_batch_id(planned)
        event.batch_id = batch
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$", batch):
            raise UserError(f"--batch-id {batch!r}: use 1-64 letters, digits, '.', '_', ':' or '-'")
        with conn.transaction():
            ensure_raw_tables(conn)
        decisions = [(p, *_decide(conn, batch, p)) for p in planned]
        on_total(sum(p.member.size for p, action, _ in decisions if action == "load"))
        results = [FileResult(name, "-", 0, "skipped", "not a Synthea file") for name in ignored]
        for p, action, why in decisions:
            if action == "load":
                rows = _copy_file(conn, batch, p, on_bytes)
                results.append(FileResult(p.member.name, p.entity.name, rows, "loaded"))
            else:
                results.append(FileResult(p.member.name, p.entity.name, 0, "unchanged", why))
            # after each file: a later file's failure is recorded with what was loaded before it
            event.files, event.row_count = _audit_files(results)
    return batch, results


def _audit_files(results: list[FileResult]) -> tuple[list[dict[str, object]], int]:
    """The files of a load and its row count, as audit.load_event records them."""
    files: list[dict[str, object]] = [
        {"file": r.file_name, "table": r.entity, "rows": r.rows, "status": r.status} for r in results
    ]
    return files, sum(r.rows for r in results)
