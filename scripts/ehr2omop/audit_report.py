"""Reading the audit trail (``ehr2omop audit``) and applying its retention (``ehr2omop audit purge``)."""

from __future__ import annotations

from datetime import datetime

import psycopg
from rich.console import Console
from rich.table import Table

from ehr2omop.errors import UserError


def recent_invocations(conn: psycopg.Connection, limit: int) -> list[tuple]:
    return conn.execute(
        """
        select
            started_at,
            ended_at,
            command,
            selection,
            status,
            node_count,
            error_count,
            database_user,
            os_user,
            client_host,
            git_commit,
            vocabulary_version
        from audit.dbt_invocation
        order by started_at desc, recorded_at desc
        limit %s
        """,
        (limit,),
    ).fetchall()


def recent_loads(conn: psycopg.Connection, limit: int) -> list[tuple]:
    return conn.execute(
        """
        select
            started_at,
            ended_at,
            kind,
            coalesce(batch_id, vocabulary_version),
            row_count,
            status,
            database_user,
            os_user,
            client_host,
            message
        from audit.load_event
        order by started_at desc, load_event_id desc
        limit %s
        """,
        (limit,),
    ).fetchall()


def last_purge(conn: psycopg.Connection) -> tuple | None:
    return conn.execute(
        """
        select recorded_at, database_user, older_than::text, deleted_rows
        from audit.purge_event
        order by recorded_at desc, purge_event_id desc
        limit 1
        """
    ).fetchone()


def _when(started: datetime, ended: datetime) -> str:
    return f"{started:%Y-%m-%d %H:%M:%S} ({(ended - started).total_seconds():.0f}s)"


def _who(database_user: str, os_user: str | None, host: str | None) -> str:
    where = "@".join(part for part in (os_user, host) if part)
    return f"{database_user} ({where})" if where else database_user


def _status(status: str) -> str:
    return f"[green]{status}[/green]" if status == "success" else f"[red]{status}[/red]"


def _commit(git: str | None) -> str:
    if not git:
        return "-"
    return git[:12] + (" dirty" if git.endswith("-dirty") else "")


def _clip(text: str | None, width: int = 28) -> str:
    if not text:
        return "-"
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(title: str, columns: list[str], right: tuple[str, ...]) -> Table:
    table = Table(title=title)
    for col in columns:
        table.add_column(col, justify="right" if col in right else "left", no_wrap=col == "status", overflow="fold")
    return table


def _require_audit(conn: psycopg.Connection) -> None:
    if conn.execute("select to_regclass('audit.dbt_invocation') is null").fetchone() == (True,):
        raise UserError(
            f"database {conn.info.dbname} has no audit schema: `ehr2omop db start` creates it on the embedded "
            "server, `ehr2omop audit init` (as the admin) elsewhere"
        )


def print_history(conn: psycopg.Connection, out: Console, limit: int) -> None:
    """The latest ``limit`` dbt invocations and loads, newest first, and the last purge."""
    _require_audit(conn)
    runs = _table(
        f"dbt invocations (latest {limit}, newest first; times UTC)",
        ["started (took)", "command", "status", "nodes", "by", "git commit", "vocabulary"],
        right=("nodes",),
    )
    for row in recent_invocations(conn, limit):
        started, ended, command, selection, status, nodes, errors, db_user, os_user, host, git, vocab = row
        runs.add_row(
            _when(started, ended),
            " ".join(part for part in (command, selection) if part),
            _status(status),
            f"{nodes:,}" + (f" ({errors:,} failed)" if errors else ""),
            _who(db_user, os_user, host),
            _commit(git),
            _clip(vocab),
        )
    out.print(runs)
    loads = _table(
        f"loads (latest {limit}, newest first; times UTC)",
        ["started (took)", "kind", "batch / version", "rows", "status", "by", "message"],
        right=("rows",),
    )
    for started, ended, kind, batch, rows, status, db_user, os_user, host, message in recent_loads(conn, limit):
        loads.add_row(
            _when(started, ended),
            kind,
            _clip(batch),
            "-" if rows is None else f"{rows:,}",
            _status(status),
            _who(db_user, os_user, host),
            message or "",
        )
    out.print(loads)
    purged = last_purge(conn)
    if purged is not None:
        at, db_user, older_than, deleted = purged
        count = sum(int(n) for n in deleted.values())
        out.print(f"last purge: {at:%Y-%m-%d %H:%M:%S} by {db_user}, {count:,} row(s) older than {older_than}")


def purge(conn: psycopg.Connection, older_than: str | None) -> list[tuple[str, int]]:
    """Call audit.purge_older_than (its default period, 7 years, when ``older_than`` is None)."""
    _require_audit(conn)
    try:
        if older_than is None:
            rows = conn.execute("select audit_table, rows_deleted from audit.purge_older_than()").fetchall()
        else:
            rows = conn.execute(
                "select audit_table, rows_deleted from audit.purge_older_than(%s::interval)", (older_than,)
            ).fetchall()
    except (psycopg.errors.InvalidDatetimeFormat, psycopg.errors.DatetimeFieldOverflow) as exc:
        raise UserError(f"--older-than {older_than!r} is not an interval: write e.g. '7 years' or '90 days'") from exc
    except psycopg.errors.InvalidParameterValue as exc:
        raise UserError(f"--older-than {older_than!r}: {exc.diag.message_primary}") from exc
    except psycopg.errors.InsufficientPrivilege as exc:
        raise UserError(
            f"{conn.info.user} may not purge the audit trail: only the owner of the audit schema may; "
            "connect as the admin (EHR2OMOP_ADMIN_DATABASE_URL on an external server)"
        ) from exc
    return [(name, int(count)) for name, count in rows]
