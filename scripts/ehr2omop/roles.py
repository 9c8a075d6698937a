"""The project's two database roles and what each may do: the one place they are set up.

- ``ehr2omop_runner`` builds everything. It logs in, creates and owns the project's schemas
  (raw, vocab, vocab_custom, staging, mapped, omop, deid_vault) and all they hold; it may
  connect, create schemas and temporary tables in the database; it is not a superuser and
  cannot create databases or roles. The loaders and dbt connect as this role.
- ``ehr2omop_reader`` is the researchers' role. It logs in and reads ``omop`` and ``vocab``;
  nothing else: no other schema, no write anywhere, no CREATE on the database or any schema,
  no temporary tables.

``init_database`` runs on an admin (superuser) connection to the target database: the embedded
server calls it from ``db.ensure_database``, an external server gets it from
``ehr2omop db init-roles``. The ``vocab`` schema is filled by Python, so its grants live here;
the ``omop`` models are granted by dbt (``grants`` config in dbt_project.yml, and the
``grant_schema_usage`` on-run-end hook for the schema). The dbt vars ``runner_role`` and
``reader_role`` hold the same names (a test keeps them in step).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from ehr2omop.errors import UserError
from ehr2omop.load import RAW_SCHEMA
from ehr2omop.vocab import VOCAB_SCHEMA

RUNNER_ROLE = "ehr2omop_runner"
READER_ROLE = "ehr2omop_reader"

# Schemas the runner creates and owns; all but raw and vocab are created by dbt.
RUNNER_SCHEMAS = (RAW_SCHEMA, VOCAB_SCHEMA, "vocab_custom", "vocab_history", "staging", "mapped", "omop", "deid_vault")

# Both roles: may log in, nothing more.
_ATTRIBUTES = "login nosuperuser nocreatedb nocreaterole noreplication nobypassrls inherit"
_ATTRIBUTE_COLUMNS = "rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolinherit"
_EXPECTED = (True, False, False, False, False, False, True)


def ensure_roles(conn: psycopg.Connection) -> None:
    """Create both roles, or put an existing one back to the attributes above (roles are cluster-wide)."""
    for role in (RUNNER_ROLE, READER_ROLE):
        query = sql.SQL("select {} from pg_roles where rolname = %s").format(sql.SQL(_ATTRIBUTE_COLUMNS))
        row = conn.execute(query, (role,)).fetchone()
        if row is None:
            try:
                with conn.transaction():
                    conn.execute(sql.SQL("create role {} " + _ATTRIBUTES).format(sql.Identifier(role)))
                continue
            except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
                pass  # created by a concurrent session a moment ago: check it below
            row = conn.execute(query, (role,)).fetchone()
        if row != _EXPECTED:
            conn.execute(sql.SQL("alter role {} " + _ATTRIBUTES).format(sql.Identifier(role)))


def _adopt_schemas(conn: psycopg.Connection) -> None:
    """Hand the project's schemas, and what they hold, to the runner where another role owns them.

    A database built before the roles existed (by the superuser) keeps working: dbt, now the
    runner, must own what it replaces.
    """
    runner = sql.Identifier(RUNNER_ROLE)
    schemas = list(RUNNER_SCHEMAS)
    for (schema,) in conn.execute(
        "select nspname from pg_namespace where nspname = any(%s) and nspowner <> %s::regrole order by 1",
        (schemas, RUNNER_ROLE),
    ).fetchall():
        conn.execute(sql.SQL("alter schema {} owner to {}").format(sql.Identifier(schema), runner))
    # tables first: a sequence that belongs to a column follows its table
    kinds = {"r": "table", "p": "table", "f": "foreign table", "v": "view", "m": "materialized view", "S": "sequence"}
    relations = conn.execute(
        """
        select n.nspname, c.relname, c.relkind
        from pg_class as c
        inner join pg_namespace as n on c.relnamespace = n.oid
        where
            n.nspname = any(%s)
            and c.relowner <> %s::regrole
            and c.relkind in ('r', 'p', 'f', 'v', 'm', 'S')
            and not (
                c.relkind = 'S' and exists (
                    select 1 from pg_depend as d
                    where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i')
                )
            )
        order by c.relkind = 'S', n.nspname, c.relname
        """,
        (schemas, RUNNER_ROLE),
    ).fetchall()
    for schema, name, kind in relations:
        conn.execute(
            sql.SQL("alter {} {} owner to {}").format(sql.SQL(kinds[kind]), sql.Identifier(schema, name), runner)
        )
    for (signature,) in conn.execute(
        """
        select format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
        from pg_proc as p
        inner join pg_namespace as n on p.pronamespace = n.oid
        where n.nspname = any(%s) and p.proowner <> %s::regrole and p.prokind in ('f', 'p')
        """,
        (schemas, RUNNER_ROLE),
    ).fetchall():
        conn.execute(sql.SQL("alter routine {} owner to {}").format(sql.SQL(signature), runner))


def init_database(conn: psycopg.Connection) -> None:
    """Roles and privileges in the database ``conn`` is connected to, as an admin; idempotent, one transaction."""
    database = sql.Identifier(conn.info.dbname)
    runner = sql.Identifier(RUNNER_ROLE)
    reader = sql.Identifier(READER_ROLE)
    vocab = sql.Identifier(VOCAB_SCHEMA)
    statements = [
        # only the two roles (and superusers) may connect; PUBLIC loses CONNECT and TEMPORARY
        sql.SQL("revoke all on database {} from public").format(database),
        sql.SQL("grant connect, create, temporary on database {} to {}").format(database, runner),
        sql.SQL("grant connect on database {} to {}").format(database, reader),
        # PostgreSQL 15+ default; older databases (or a restored dump) may still allow it
        sql.SQL("revoke create on schema public from public"),
        # pgcrypto (keyed pseudonyms) needs a superuser or a database owner: the admin does it
        sql.SQL("create extension if not exists pgcrypto"),
        # vocab is filled by `ehr2omop vocab load`, not by dbt: the reader's grants are here
        sql.SQL("create schema if not exists {} authorization {}").format(vocab, runner),
        sql.SQL("grant usage on schema {} to {}").format(vocab, reader),
        sql.SQL("grant select on all tables in schema {} to {}").format(vocab, reader),
        sql.SQL("alter default privileges for role {} in schema {} grant select on tables to {}").format(
            runner, vocab, reader
        ),
    ]
    try:
        with conn.transaction():
            ensure_roles(conn)
            _adopt_schemas(conn)
            for statement in statements:
                conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise UserError(
            f"cannot set up roles in database {conn.info.dbname} as {conn.info.user}: "
            f"{(exc.diag.message_primary or str(exc)).strip()}; connect as a superuser (EHR2OMOP_ADMIN_DATABASE_URL)"
        ) from exc
