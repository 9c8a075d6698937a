"""The end-of-run summary: rows per schema and table, rejects by reason."""

from __future__ import annotations

import psycopg
from psycopg import sql
from rich.console import Console
from rich.table import Table

SCHEMAS = ("raw", "staging", "mapped", "omop")
# Internal relations the summary leaves out: staging's base tables (the stg views show the
# same rows, less the rejects) and the mapped layer's id maps.
HIDDEN = r"^(base_synthea__.*|.*_ids)$"


def table_counts(conn: psycopg.Connection, schemas: tuple[str, ...] = SCHEMAS) -> list[tuple[str, str, int]]:
    """Exact row counts of every table and view in ``schemas``, ordered by schema then name."""
    rels = conn.execute(
        """
        select n.nspname, c.relname
        from pg_class as c
        inner join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p') and c.relname !~ %s
        order by array_position(%s, n.nspname::text), c.relname
        """,
        (list(schemas), HIDDEN, list(schemas)),
    ).fetchall()
    counts = []
    for schema, name in rels:
        query = sql.SQL("select count(*) from {}").format(sql.Identifier(schema, name))
        counts.append((schema, name, conn.execute(query).fetchone()[0]))
    return counts


def rejects_by_reason(conn: psycopg.Connection) -> list[tuple[str, str, int]]:
    exists = conn.execute("select to_regclass('staging.stg_synthea__rejects') is not null").fetchone()[0]
    if not exists:
        return []
    return conn.execute(
        "select entity, reject_reason, count(*) from staging.stg_synthea__rejects group by 1, 2 order by 1, 3 desc"
    ).fetchall()


def print_summary(conn: psycopg.Connection, out: Console) -> None:
    counts = table_counts(conn)
    table = Table(title="rows per schema and table")
    for col in ("schema", "table", "rows"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for schema, name, rows in counts:
        table.add_row(schema, name, f"{rows:,}")
    out.print(table)
    rejects = rejects_by_reason(conn)
    rej = Table(title="staging rejects by reason")
    for col in ("entity", "reason", "rows"):
        rej.add_column(col, justify="right" if col == "rows" else "left")
    for entity, reason, rows in rejects:
        rej.add_row(entity, reason, f"{rows:,}")
    if not rejects:
        rej.add_row("-", "no rejected rows", "0")
    out.print(rej)
