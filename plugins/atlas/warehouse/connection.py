"""Resolve the warehouse: Airflow connection ``atlas_warehouse`` if configured, else embedded."""

from __future__ import annotations

import os
from typing import Any

from atlas import settings
from atlas.warehouse import embedded

ENV_CONN = "AIRFLOW_CONN_" + settings.WAREHOUSE_CONN_ID.upper()


def _airflow_connection_uri() -> str | None:
    """The configured Airflow connection as a libpq URI, or None when there is none."""
    if os.environ.get(ENV_CONN):
        return _to_libpq(os.environ[ENV_CONN])
    if os.environ.get("ATLAS_WAREHOUSE_LOOKUP_AIRFLOW", "1") != "1":
        return None
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(settings.WAREHOUSE_CONN_ID)
    except Exception:  # noqa: BLE001 - absent connection or no Airflow context: use embedded
        return None
    return _to_libpq(conn.get_uri())


def _to_libpq(uri: str) -> str:
    """Airflow URIs use postgres:// and may carry a url-encoded socket host; libpq accepts both."""
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://"):]
    return uri.split("?__extra__")[0]


def resolve_dsn() -> str:
    """DSN of the warehouse: the configured connection, else the embedded server (started if needed)."""
    return _airflow_connection_uri() or embedded.ensure_running(settings.embedded_warehouse_dir())


def connect(dsn: str | None = None) -> Any:
    """A new psycopg2 connection (autocommit off) to the warehouse.

    Lock waits are bounded (``ATLAS_LOCK_TIMEOUT``, default 120s): a swap blocked by a long
    reader fails with a retryable error instead of hanging the task.
    """
    import psycopg2

    conn = psycopg2.connect(dsn or resolve_dsn())
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('lock_timeout', %s, false)", (os.environ.get("ATLAS_LOCK_TIMEOUT", "120s"),))
    conn.commit()
    conn.set_session(autocommit=False)
    return conn


def conn_params(dsn: str | None = None) -> dict[str, Any]:
    """host/port/user/password/dbname of the warehouse, e.g. for a Soda data source."""
    from psycopg2.extensions import parse_dsn

    parsed = parse_dsn(dsn or resolve_dsn())
    return {
        "host": parsed.get("host", "localhost"),
        "port": int(parsed.get("port", 5432)),
        "user": parsed.get("user", "postgres"),
        "password": parsed.get("password", ""),
        "dbname": parsed.get("dbname", "postgres"),
    }
