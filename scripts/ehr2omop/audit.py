"""The audit trail: the ``audit`` schema (the one place its DDL lives) and the load events.

Tables (all append-only):

- ``audit.dbt_invocation`` / ``audit.dbt_node_result``: one row per dbt invocation and per node
  result, written by the on-run-end hook ``audit_record_run`` (macros/audit/); dbt only inserts.
- ``audit.load_event``: one row per ``ehr2omop load synthea`` / ``ehr2omop vocab load``, failed
  or not (``recorded_load``).
- ``audit.run_metric``: the measures of a successful dbt build or run (rows per OMOP table, unmapped
  share per domain, staging rejects per reason, seconds per model), written by the on-run-end hook
  ``audit_record_metrics`` right after the invocation's row; read by the run-metric tests and
  ``ehr2omop report``.
- ``audit.purge_event``: one row per call of the retention function ``audit.purge_older_than``.

The schema belongs to the role that creates it, the admin (``ehr2omop db start`` on the embedded
server, ``ehr2omop audit init`` elsewhere); the runner role only gets USAGE, SELECT and INSERT.
Triggers refuse UPDATE, DELETE and TRUNCATE for everyone, the owner included. Server-known
fields (``recorded_at``, ``database_user``, ``client_addr``) are stamped by a trigger; OS user,
host and git commit are what the client reports.

How ``audit.purge_older_than`` (SECURITY DEFINER, owner only) gets past the DELETE trigger and
nobody else does: it writes a random token, bound to its own transaction id, into
``audit.purge_authorization`` (a table only the owner can read or write), puts the same token in
the transaction-local setting ``ehr2omop.audit_purge_token``, deletes, then removes the token.
The trigger lets a DELETE through only when the setting matches a token row of the current
transaction. Anyone can ``set_config`` the setting, but nobody else can read or write the token
table, and a token is only visible, and only valid, inside the purge's own transaction.
"""

from __future__ import annotations

import getpass
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from ehr2omop.errors import UserError

AUDIT_SCHEMA = "audit"
# Bump when the DDL below changes: a database with another layout is brought up to date by its owner.
LAYOUT = 2
SCHEMA_COMMENT = f"ehr2omop audit trail, layout {LAYOUT}: append-only log of dbt runs and loads (see README)"
# The tables the triggers guard; purge_authorization is internal (owner only, no triggers).
GUARDED_TABLES = ("dbt_invocation", "dbt_node_result", "load_event", "purge_event", "run_metric")
# The tables the runner appends to (purge_event is written by the purge function only).
APPENDABLE_TABLES = ("dbt_invocation", "dbt_node_result", "load_event", "run_metric")
# Environment variables the on-run-end hook reads (with fallbacks); run_dbt sets them.
ENV_OS_USER = "EHR2OMOP_OS_USER"
ENV_CLIENT_HOST = "EHR2OMOP_CLIENT_HOST"
ENV_GIT_COMMIT = "EHR2OMOP_GIT_COMMIT"

_TABLES_DDL = """
create table if not exists audit.dbt_invocation (
    invocation_id text primary key,
    command text not null,
    selection text,
    invocation_args jsonb not null,
    target_name text,
    database_name text not null default current_database(),
    database_user text not null,
    client_addr inet,
    os_user text,
    client_host text,
    dbt_version text not null,
    project_name text,
    project_version text,
    git_commit text,
    vocabulary_version text,
    started_at timestamptz not null,
    ended_at timestamptz not null,
    status text not null check (status in ('success', 'failed')),
    node_count integer not null,
    error_count integer not null,
    recorded_at timestamptz not null
);

create table if not exists audit.dbt_node_result (
    node_result_id bigint generated always as identity primary key,
    invocation_id text not null references audit.dbt_invocation (invocation_id),
    unique_id text not null,
    resource_type text not null,
    status text not null,
    rows_affected bigint,
    failures bigint,
    execution_seconds numeric(12, 3),
    message text,
    recorded_at timestamptz not null
);

create index if not exists dbt_node_result__invocation on audit.dbt_node_result (invocation_id);

create table if not exists audit.load_event (
    load_event_id bigint generated always as identity primary key,
    kind text not null,
    source text not null,
    batch_id text,
    vocabulary_version text,
    files jsonb,
    row_count bigint,
    status text not null check (status in ('success', 'failed')),
    message text,
    loader_version text not null,
    database_name text not null default current_database(),
    database_user text not null,
    client_addr inet,
    os_user text,
    client_host text,
    started_at timestamptz not null,
    ended_at timestamptz not null,
    recorded_at timestamptz not null
);

create table if not exists audit.purge_event (
    purge_event_id bigint generated always as identity primary key,
    older_than interval not null,
    cutoff timestamptz not null,
    deleted_rows jsonb not null,
    database_user text not null,
    client_addr inet,
    recorded_at timestamptz not null
);

-- One measure of a successful dbt build or run: metric (omop_rows, unmapped_share, staging_rejects,
-- model_seconds, ...), what it measures (a table, a domain, a reason, a model) and its value.
create table if not exists audit.run_metric (
    run_metric_id bigint generated always as identity primary key,
    invocation_id text not null references audit.dbt_invocation (invocation_id),
    metric text not null check (metric <> ''),
    subject text not null,
    value numeric not null,
    recorded_at timestamptz not null
);

create index if not exists run_metric__invocation on audit.run_metric (invocation_id);
create index if not exists run_metric__metric_subject on audit.run_metric (metric, subject, recorded_at);

create table if not exists audit.purge_authorization (
    token text primary key,
    transaction_id xid8 not null
);
"""

_FUNCTIONS_DDL = """
-- Server-known fields, whatever the client sent: the time, the login role, its address.
-- jsonb_populate_record sets only the columns a table has.
create or replace function audit.stamp_row() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    new := jsonb_populate_record(
        new,
        jsonb_build_object(
            'recorded_at', now(),
            'database_user', session_user,
            'client_addr', inet_client_addr()
        )
    );
    return new;
end
$$;

-- True only inside audit.purge_older_than: the token in the setting is one it wrote, in this
-- transaction, into a table nobody else can read or write (see the module docstring).
create or replace function audit.purge_is_authorized() returns boolean
language sql
security definer
set search_path = pg_catalog, pg_temp
as $$
    select exists (
        select
        from audit.purge_authorization as authorization_row
        where
            authorization_row.token = current_setting('ehr2omop.audit_purge_token', true)
            and authorization_row.transaction_id = pg_current_xact_id_if_assigned()
    )
$$;

create or replace function audit.refuse_change() returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    if tg_op = 'DELETE' and audit.purge_is_authorized() then
        return old;  -- the return value of a statement-level trigger is ignored
    end if;
    raise exception using
        errcode = 'insufficient_privilege',
        message = format('%I.%I is append-only: %s refused', tg_table_schema, tg_table_name, tg_op),
        hint = 'audit rows are never changed; old rows leave only through audit.purge_older_than(interval), '
            'run by the owner of the audit schema';
end
$$;

create or replace function audit.purge_older_than(older_than interval default interval '7 years')
returns table (audit_table text, rows_deleted bigint)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    purge_cutoff timestamptz := now() - older_than;
    purge_token text := gen_random_uuid()::text;
    invocations bigint;
    node_results bigint;
    run_metrics bigint;
    load_events bigint;
begin
    if older_than is null or older_than < interval '0 seconds' then
        raise exception using
            errcode = 'invalid_parameter_value',
            message = format(
                'audit.purge_older_than: older_than must be zero or a positive interval, not %s',
                coalesce(older_than::text, 'null')
            );
    end if;

    insert into audit.purge_authorization (token, transaction_id)
    values (purge_token, pg_current_xact_id());
    perform set_config('ehr2omop.audit_purge_token', purge_token, true);

    delete from audit.dbt_node_result as node_result
    where
        node_result.recorded_at < purge_cutoff
        or node_result.invocation_id in (
            select invocation.invocation_id
            from audit.dbt_invocation as invocation
            where invocation.recorded_at < purge_cutoff
        );
    get diagnostics node_results = row_count;

    delete from audit.run_metric as run_metric
    where
        run_metric.recorded_at < purge_cutoff
        or run_metric.invocation_id in (
            select invocation.invocation_id
            from audit.dbt_invocation as invocation
            where invocation.recorded_at < purge_cutoff
        );
    get diagnostics run_metrics = row_count;

    delete from audit.dbt_invocation as invocation
    where invocation.recorded_at < purge_cutoff;
    get diagnostics invocations = row_count;

    delete from audit.load_event as load_event
    where load_event.recorded_at < purge_cutoff;
    get diagnostics load_events = row_count;

    delete from audit.purge_authorization as authorization_row
    where authorization_row.token = purge_token;
    perform set_config('ehr2omop.audit_purge_token', '', true);

    insert into audit.purge_event (older_than, cutoff, deleted_rows)
    values (
        purge_older_than.older_than,
        purge_cutoff,
        jsonb_build_object(
            'dbt_invocation', invocations,
            'dbt_node_result', node_results,
            'run_metric', run_metrics,
            'load_event', load_events
        )
    );

    return query
    values
        ('dbt_invocation', invocations),
        ('dbt_node_result', node_results),
        ('run_metric', run_metrics),
        ('load_event', load_events);
end
$$;

comment on function audit.purge_older_than(interval) is
    'Retention: deletes audit rows recorded more than older_than ago (default 7 years) and logs the '
    'purge in audit.purge_event. The only way rows leave the audit trail; owner only.';
"""

_TRIGGERS = (
    "create or replace trigger stamp_row before insert on audit.{table}"
    " for each row execute function audit.stamp_row()",
    "create or replace trigger refuse_change_row before update or delete on audit.{table}"
    " for each row execute function audit.refuse_change()",
    "create or replace trigger refuse_change_statement before update or delete on audit.{table}"
    " for each statement execute function audit.refuse_change()",
    "create or replace trigger refuse_truncate before truncate on audit.{table}"
    " for each statement execute function audit.refuse_change()",
)


@dataclass(frozen=True)
class _State:
    layout_current: bool
    exists: bool
    may_manage: bool  # superuser, or member of the schema owner's role
    user: str


def _state(conn: psycopg.Connection) -> _State:
    row = conn.execute(
        """
        select
            obj_description(n.oid, 'pg_namespace') = %s,
            n.oid is not null,
            r.rolsuper or (n.oid is not null and pg_has_role(current_user, n.nspowner, 'member')),
            current_user::text
        from pg_roles as r
        left join pg_namespace as n on n.nspname = %s
        where r.rolname = current_user
        """,
        (SCHEMA_COMMENT, AUDIT_SCHEMA),
    ).fetchone()
    assert row is not None
    return _State(layout_current=bool(row[0]), exists=bool(row[1]), may_manage=bool(row[2]), user=row[3])


def _runner_role() -> str:
    from ehr2omop.roles import RUNNER_ROLE  # roles imports the loaders, which import this module

    return RUNNER_ROLE


def _grant(conn: psycopg.Connection) -> None:
    """Nothing for PUBLIC; the runner (when the role exists) may read and append, nothing more."""
    conn.execute("revoke all on schema audit from public")
    conn.execute("revoke all on all tables in schema audit from public")
    conn.execute("revoke all on function audit.purge_older_than(interval) from public")
    runner = _runner_role()
    if conn.execute("select to_regrole(%s) is not null", (runner,)).fetchone() == (True,):
        role = sql.Identifier(runner)
        appendable = sql.SQL(", ").join(sql.Identifier(AUDIT_SCHEMA, t) for t in APPENDABLE_TABLES)
        conn.execute(sql.SQL("grant usage on schema audit to {}").format(role))
        conn.execute(sql.SQL("grant select, insert on {} to {}").format(appendable, role))
        conn.execute(sql.SQL("grant select on audit.purge_event to {}").format(role))


def ensure_audit_schema(conn: psycopg.Connection) -> None:
    """Create or update the audit schema when it is missing or outdated, and (as its owner) grant.

    Cheap when the schema is current and the caller is not its owner (the loaders as the runner).
    The runner never creates it: the schema's owner could drop the triggers.
    """
    state = _state(conn)
    if state.layout_current and not state.may_manage:
        return
    if not state.exists and state.user == _runner_role():
        raise UserError(
            f"the audit schema is missing in database {conn.info.dbname}; create it as the database admin: "
            "`ehr2omop audit init` (with EHR2OMOP_ADMIN_DATABASE_URL on an external server)"
        )
    if state.exists and not state.may_manage:
        raise UserError(
            f"the audit schema of database {conn.info.dbname} is not layout {LAYOUT}; bring it up to date as "
            "its owner: `ehr2omop audit init` (with EHR2OMOP_ADMIN_DATABASE_URL on an external server)"
        )
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('ehr2omop.audit.ddl'))")
        if not _state(conn).layout_current:
            conn.execute("create schema if not exists audit")
            conn.execute(_TABLES_DDL)
            conn.execute(_FUNCTIONS_DDL)
            for table in GUARDED_TABLES:
                for trigger in _TRIGGERS:
                    conn.execute(trigger.format(table=table))
            conn.execute(sql.SQL("comment on schema audit is {}").format(sql.Literal(SCHEMA_COMMENT)))
        _grant(conn)


# --- who and where ------------------------------------------------------------------------------


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def git_commit(project: Path) -> str:
    """The checkout's commit, with ``-dirty`` when tracked files differ from it; '' without git."""
    try:
        head = subprocess.run(
            ["git", "-C", str(project), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return ""
        changes = subprocess.run(
            ["git", "-C", str(project), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return head.stdout.strip() + ("-dirty" if changes.stdout.strip() else "")


def client_env(project: Path) -> dict[str, str]:
    """What the dbt hook cannot find out itself: OS user, host, git commit (env vars the hook reads)."""
    return {ENV_OS_USER: os_user(), ENV_CLIENT_HOST: socket.gethostname(), ENV_GIT_COMMIT: git_commit(project)}


# --- load events --------------------------------------------------------------------------------


@dataclass
class LoadEvent:
    """One load as audit.load_event records it; the loader fills in what it learns."""

    kind: str
    source: str
    loader_version: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    batch_id: str | None = None
    vocabulary_version: str | None = None
    files: list[dict[str, object]] | None = None
    row_count: int | None = None


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def write_load_event(conn: psycopg.Connection, event: LoadEvent, status: str, message: str | None) -> None:
    """Insert one audit.load_event row in a transaction of its own (after any rollback of the load)."""
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
        conn.rollback()
    try:
        _insert_load_event(conn, event, status, message)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise UserError(
            f"the {event.kind} load ended ({status}) but {conn.info.user} may not write its audit row: "
            f"{exc.diag.message_primary}; grant it with `ehr2omop audit init` as the database admin"
        ) from exc


def _insert_load_event(conn: psycopg.Connection, event: LoadEvent, status: str, message: str | None) -> None:
    with conn.transaction():
        conn.execute(
            """
            insert into audit.load_event (
                kind, source, batch_id, vocabulary_version, files, row_count, status, message,
                loader_version, os_user, client_host, started_at, ended_at
            )
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (
                event.kind,
                event.source,
                event.batch_id,
                event.vocabulary_version,
                Jsonb(event.files) if event.files is not None else None,
                event.row_count,
                status,
                message,
                event.loader_version,
                os_user() or None,
                socket.gethostname() or None,
                event.started_at,
                datetime.now(UTC),
            ),
        )


@contextmanager
def recorded_load(conn: psycopg.Connection, kind: str, source: Path, loader_version: str) -> Iterator[LoadEvent]:
    """Record the load run inside the block: success, or failed with the error's first line.

    A failure is recorded after the load's own transactions rolled back, then re-raised; when the
    failure row cannot be written either (the connection is gone), the load's error still wins.
    """
    ensure_audit_schema(conn)
    event = LoadEvent(kind=kind, source=str(source), loader_version=loader_version)
    try:
        yield event
    except BaseException as exc:
        with suppress(psycopg.Error, UserError):
            write_load_event(conn, event, "failed", _one_line(exc))
        raise
    write_load_event(conn, event, "success", None)
