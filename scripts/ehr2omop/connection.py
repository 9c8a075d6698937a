"""Connections for the Python toolkit: the embedded server, or EHR2OMOP_DATABASE_URL."""

from __future__ import annotations

import os

import psycopg

from ehr2omop import db
from ehr2omop.errors import UserError


def database_url() -> str:
    """EHR2OMOP_DATABASE_URL when set (an external server), else the embedded server's URL."""
    return os.environ.get("EHR2OMOP_DATABASE_URL") or db.server().url()


def connect(autocommit: bool = True) -> psycopg.Connection:
    url = database_url()
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        raise UserError(
            f"cannot connect to {url}: {first}; start the embedded server with `ehr2omop db start` "
            "or set EHR2OMOP_DATABASE_URL"
        ) from exc
