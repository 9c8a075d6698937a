"""Least privilege, proven on a real build: the runner builds everything, the reader reads omop and vocab only.

One small project is built once for the module (generate, vocab load, raw load, dbt build, all
through the real commands), then the tests log in as ``ehr2omop_reader`` over a real connection
and try what a researcher could try, and check the catalog for anything the reader could reach.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
import yaml
from conftest import PROJECT, Database
from psycopg import sql

from ehr2omop import db
from ehr2omop.roles import READER_ROLE, RUNNER_ROLE, RUNNER_SCHEMAS

READABLE = {"omop", "vocab"}
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
WRITE_PRIVILEGES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")

# Schemas the reader must not reach; audit and deid_vault come with work in progress elsewhere.
FORBIDDEN = {
    "raw": None,
    "staging": None,
    "mapped": None,
    "vocab_custom": None,
    "vocab_history": None,
    "dq_results": None,  # the DataQualityDashboard test results (macros/tests/dq_checks.sql)
    "deid_vault": "schema deid_vault does not exist in this build (the de-identification key vault is not built yet)",
    "audit": "schema audit does not exist in this build (the audit trail is not added yet)",
}


@pytest.fixture(scope="module")
def built(server: db.Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    tmp = tmp_path_factory.mktemp("privileges")
    database = Database(server, "t_privileges", tmp)
    db.drop_database(server, database.name)
    db.ensure_database(server, database.name)
    extract = tmp / "extract"
    database.cli("generate", "synthea", "--patients", "10", "--seed", "1", "--out", str(extract))
    database.cli("vocab", "load", "--demo")
    database.cli("load", "synthea", str(extract))
    database.dbt("build")
    yield database
    db.drop_database(server, database.name)


@pytest.fixture
def admin(built: Database) -> Iterator[psycopg.Connection]:
    with psycopg.connect(built.srv.admin_url(built.name), autocommit=True) as conn:
        yield conn


@pytest.fixture
def reader(built: Database) -> Iterator[psycopg.Connection]:
    with psycopg.connect(built.srv.url(built.name, user=READER_ROLE), autocommit=True) as conn:
        assert conn.execute("select current_user").fetchone() == (READER_ROLE,)
        yield conn


def relations(conn: psycopg.Connection, schema: str) -> list[sql.Identifier]:
    rows = conn.execute(
        """
        select c.relname from pg_class as c inner join pg_namespace as n on c.relnamespace = n.oid
        where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm', 'f') order by 1
        """,
        (schema,),
    ).fetchall()
    return [sql.Identifier(schema, name) for (name,) in rows]


def schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    return conn.execute("select 1 from pg_namespace where nspname = %s", (schema,)).fetchone() is not None


def test_role_names_are_the_same_in_dbt_and_python(built: Database) -> None:
    project_vars = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["vars"]
    assert (project_vars["runner_role"], project_vars["reader_role"]) == (RUNNER_ROLE, READER_ROLE)
    manifest = json.loads((built.tmp / "target" / "manifest.json").read_text())
    omop_models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "omop"]
    assert omop_models
    assert {json.dumps(n["config"]["grants"]) for n in omop_models} == {json.dumps({"select": [READER_ROLE]})}


def test_roles_can_log_in_and_nothing_more(admin: psycopg.Connection) -> None:
    for role in (RUNNER_ROLE, READER_ROLE):
        attributes = admin.execute(
            "select rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls"
            " from pg_roles where rolname = %s",
            (role,),
        ).fetchone()
        assert attributes == (True, False, False, False, False, False), role
        member_of = admin.execute(
            "select roleid::regrole::text from pg_auth_members where member = %s::regrole", (role,)
        ).fetchall()
        assert member_of == [], f"{role} is a member of {member_of}"


def test_the_build_ran_as_the_runner(built: Database, admin: psycopg.Connection) -> None:
    assert admin.execute(
        "select tableowner from pg_tables where schemaname = 'omop' and tablename = 'person'"
    ).fetchone() == (RUNNER_ROLE,)
    present = [s for s in RUNNER_SCHEMAS if schema_exists(admin, s)]
    assert {"raw", "vocab", "vocab_custom", "staging", "mapped", "omop"} <= set(present)
    not_runner = admin.execute(
        """
        select n.nspname, c.relname, c.relowner::regrole::text
        from pg_class as c inner join pg_namespace as n on c.relnamespace = n.oid
        where n.nspname = any(%s) and c.relowner <> %s::regrole
        union all
        select nspname, '', nspowner::regrole::text from pg_namespace
        where nspname = any(%s) and nspowner <> %s::regrole
        """,
        (present, RUNNER_ROLE, present, RUNNER_ROLE),
    ).fetchall()
    assert not_runner == []
    with psycopg.connect(built.srv.url(built.name), autocommit=True) as runner:
        assert runner.execute("select current_user, usesuper from pg_user where usename = current_user").fetchone() == (
            RUNNER_ROLE,
            False,
        )
        for statement in ("create role ehr2omop_not_allowed", "create database ehr2omop_not_allowed"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                runner.execute(statement)


def test_reader_reads_every_omop_and_vocab_relation(admin: psycopg.Connection, reader: psycopg.Connection) -> None:
    assert reader.execute("select count(*) from omop.person").fetchone() == (10,)
    assert reader.execute("select count(*) from vocab.concept").fetchone()[0] > 0
    # omop.concept and the other vocabulary tables of the CDM are views over vocab
    assert reader.execute("select count(*) from omop.concept").fetchone()[0] > 0
    for schema in sorted(READABLE):
        names = relations(admin, schema)
        assert names, f"schema {schema} is empty"
        for name in names:
            reader.execute(sql.SQL("select * from {} limit 1").format(name))


@pytest.mark.parametrize("schema", FORBIDDEN)
def test_reader_cannot_read(schema: str, admin: psycopg.Connection, reader: psycopg.Connection) -> None:
    if not schema_exists(admin, schema):
        reason = FORBIDDEN[schema]
        if reason is None:
            pytest.fail(f"schema {schema} was not built")
        pytest.skip(reason)
    names = relations(admin, schema)
    for name in names:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute(sql.SQL("select * from {} limit 1").format(name))
    if not names:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute(sql.SQL("select * from {}.anything").format(sql.Identifier(schema)))
    assert reader.execute("select has_schema_privilege(%s, 'usage')", (schema,)).fetchone() == (False,)


def test_catalog_gives_the_reader_nothing_else(built: Database, admin: psycopg.Connection) -> None:
    """Every schema and relation of the database: SELECT in omop and vocab only, no write, no CREATE."""
    schema_grants = admin.execute(
        """
        select nspname, has_schema_privilege(%s, oid, 'usage'), has_schema_privilege(%s, oid, 'create')
        from pg_namespace where nspname <> all(%s) and nspname not like 'pg_temp%%' and nspname not like 'pg_toast%%'
        """,
        (READER_ROLE, READER_ROLE, list(SYSTEM_SCHEMAS)),
    ).fetchall()
    assert {s for s, usage, _ in schema_grants if usage} <= READABLE | {"public"}
    assert [s for s, _, create in schema_grants if create] == []
    relation_grants = admin.execute(
        """
        select n.nspname, c.relname,
            has_any_column_privilege(%s, c.oid, 'select'),
            has_table_privilege(%s, c.oid, %s)
        from pg_class as c inner join pg_namespace as n on c.relnamespace = n.oid
        where n.nspname <> all(%s) and c.relkind in ('r', 'p', 'v', 'm', 'f')
        """,
        (READER_ROLE, READER_ROLE, ",".join(WRITE_PRIVILEGES), list(SYSTEM_SCHEMAS)),
    ).fetchall()
    assert len(relation_grants) > 100
    assert sorted({s for s, _, select, _ in relation_grants if select}) == sorted(READABLE)
    assert [(s, r) for s, r, _, write in relation_grants if write] == []
    assert admin.execute(
        "select has_database_privilege(%s, current_database(), 'create'),"
        " has_database_privilege(%s, current_database(), 'temporary')",
        (READER_ROLE, READER_ROLE),
    ).fetchone() == (False, False)


WRITES = {
    "insert omop": "insert into omop.person select * from omop.person where false",
    "update omop": "update omop.person set person_source_value = person_source_value where false",
    "delete omop": "delete from omop.person where false",
    "truncate omop": "truncate omop.person",
    "insert vocab": "insert into vocab.concept select * from vocab.concept where false",
    "update vocab": "update vocab.concept set concept_name = concept_name where false",
    "delete vocab": "delete from vocab.concept where false",
    "truncate vocab": "truncate vocab.concept",
    "create in omop": "create table omop.reader_table (x integer)",
    "create in vocab": "create table vocab.reader_table (x integer)",
    "create in public": "create table public.reader_table (x integer)",
    "create view in public": "create view public.reader_view as select 1 as x",
    "create in raw": "create table raw.reader_table (x integer)",
    "create schema": "create schema reader_schema",
    "create temporary table": "create temporary table reader_table (x integer)",
    "create in a new schema": "create table runner_new_schema.reader_table (x integer)",
}


@pytest.mark.parametrize("statement", WRITES.values(), ids=WRITES.keys())
def test_reader_cannot_write(statement: str, built: Database, reader: psycopg.Connection) -> None:
    with psycopg.connect(built.srv.url(built.name), autocommit=True) as runner:
        runner.execute("create schema if not exists runner_new_schema")
        try:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(statement)
        finally:
            runner.execute("drop schema runner_new_schema cascade")


def test_a_database_built_before_the_roles_is_handed_to_the_runner(database: Database) -> None:
    """What the superuser built in the project's schemas (the layout before the roles) goes to the runner."""
    with psycopg.connect(database.srv.admin_url(database.name), autocommit=True) as admin:
        admin.execute("alter schema raw owner to current_user")
        admin.execute("create schema mapped")
        admin.execute("create table mapped.person_ids (person_id serial primary key, person_key text)")
        admin.execute("create view mapped.person_keys as select person_key from mapped.person_ids")
        admin.execute("create materialized view mapped.person_count as select count(*) as n from mapped.person_ids")
        admin.execute("create sequence mapped.free_sequence")
        admin.execute("create function mapped.one() returns integer language sql as 'select 1'")
        db.ensure_database(database.srv, database.name)
        owners = admin.execute(
            """
            select c.relname, c.relowner::regrole::text from pg_class as c
            where c.relnamespace = 'mapped'::regnamespace
            union all
            select proname, proowner::regrole::text from pg_proc where pronamespace = 'mapped'::regnamespace
            union all
            select nspname, nspowner::regrole::text from pg_namespace where nspname in ('raw', 'mapped')
            """
        ).fetchall()
    assert {name for name, _ in owners} >= {"person_ids", "person_ids_person_id_seq", "person_keys", "one", "raw"}
    assert {owner for _, owner in owners} == {RUNNER_ROLE}
    with psycopg.connect(database.url, autocommit=True) as runner:
        runner.execute("drop schema mapped cascade")
