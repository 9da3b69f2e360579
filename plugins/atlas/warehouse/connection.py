"""Resolve the warehouse: Airflow connection ``atlas_warehouse`` if configured, else embedded."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from atlas import settings

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

ENV_CONN = "AIRFLOW_CONN_" + settings.WAREHOUSE_CONN_ID.upper()


def resolve_dsn(conn_id: str = settings.WAREHOUSE_CONN_ID) -> str:
    """DSN of the warehouse: the configured connection, else the embedded server (started if needed)."""
    from atlas.hooks.warehouse import WarehouseHook

    return WarehouseHook(warehouse_conn_id=conn_id).dsn


def configure_session(conn: PgConnection) -> None:
    """Bound lock waits (``ATLAS_LOCK_TIMEOUT``, default 120s) and turn autocommit off: a swap
    blocked by a long reader fails with a retryable error instead of hanging the task."""
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('lock_timeout', %s, false)", (os.environ.get("ATLAS_LOCK_TIMEOUT", "120s"),))
    conn.commit()
    conn.set_session(autocommit=False)


def connect(dsn: str | None = None) -> Any:
    """A new psycopg2 connection (autocommit off, bounded lock waits) to the warehouse."""
    import psycopg2

    conn = psycopg2.connect(dsn or resolve_dsn())
    configure_session(conn)
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
