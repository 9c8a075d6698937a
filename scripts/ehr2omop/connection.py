"""Connections for the Python toolkit: the embedded server, or EHR2OMOP_DATABASE_URL.

``connect`` is the everyday connection (the runner role, see ehr2omop.roles); ``admin_connect``
is the superuser one, for setup only: roles, the audit schema (EHR2OMOP_ADMIN_DATABASE_URL on an external
server).
"""

from __future__ import annotations

import os

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ehr2omop import db, tls
from ehr2omop.errors import UserError


def with_ssl_mode(url: str) -> str:
    """``url`` with EHR2OMOP_PGSSLMODE added when that is set and the URL does not say its own sslmode."""
    if not os.environ.get("EHR2OMOP_PGSSLMODE"):
        return url
    try:
        given = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return url  # connecting will say what is wrong with it
    return url if "sslmode" in given else make_conninfo(url, sslmode=tls.client_ssl_mode())


def database_url() -> str:
    """EHR2OMOP_DATABASE_URL when set (an external server), else the embedded server's URL."""
    external = os.environ.get("EHR2OMOP_DATABASE_URL")
    return with_ssl_mode(external) if external else db.server().url()


def connect(autocommit: bool = True) -> psycopg.Connection:
    url = database_url()
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        mismatch = tls.mismatch_message(exc, f"the server of {url}")
        if mismatch:
            raise UserError(mismatch) from exc
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        raise UserError(
            f"cannot connect to {url}: {first}; start the embedded server with `ehr2omop db start` "
            "or set EHR2OMOP_DATABASE_URL"
        ) from exc


def admin_database_url() -> str:
    """EHR2OMOP_ADMIN_DATABASE_URL when set, else the embedded server's superuser URL."""
    given = os.environ.get("EHR2OMOP_ADMIN_DATABASE_URL")
    if given:
        return with_ssl_mode(given)
    if os.environ.get("EHR2OMOP_DATABASE_URL"):
        raise UserError(
            "EHR2OMOP_DATABASE_URL points at an external server but EHR2OMOP_ADMIN_DATABASE_URL is not set: "
            "set it to a superuser URL of the same database"
        )
    return db.server().admin_url()


def admin_connect() -> psycopg.Connection:
    url = admin_database_url()
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        where = _without_password(url)
        raise UserError(f"cannot connect to {where}: {first}; check EHR2OMOP_ADMIN_DATABASE_URL") from exc


def _without_password(url: str) -> str:
    """user@host:port/dbname of a connection string, never its password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "EHR2OMOP_ADMIN_DATABASE_URL (not a valid connection string)"
    return f"{parts.get('user', '')}@{parts.get('host', '')}:{parts.get('port', '')}/{parts.get('dbname', '')}"
