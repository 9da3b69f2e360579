"""Airflow hook for the Atlas warehouse: a ``PostgresHook`` on connection ``atlas_warehouse``.

The hook honours its connection id like any provider hook (``AIRFLOW_CONN_<ID>``, a secrets
backend or the metastore). Only the default id falls back to the embedded PostgreSQL in
``ATLAS_HOME`` when no such connection is configured, so ``make demo`` and the tests need no
setup. URI, COPY helpers and the OpenLineage database info are the provider's.
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.postgres.hooks.postgres import PostgresHook

from atlas import settings

if TYPE_CHECKING:
    from airflow.providers.openlineage.sqlparser import DatabaseInfo
    from airflow.sdk import Connection

LOOKUP_ENV = "ATLAS_WAREHOUSE_LOOKUP_AIRFLOW"  # "0": skip the metastore lookup (no Airflow context)


def embedded_connection(conn_id: str) -> Connection:
    """The embedded PostgreSQL (started if needed) as an Airflow connection."""
    from airflow.sdk import Connection
    from psycopg2.extensions import parse_dsn

    from atlas.warehouse import embedded

    params = parse_dsn(embedded.ensure_running(settings.embedded_warehouse_dir()))
    return Connection(conn_id=conn_id, conn_type="postgres", host=params.get("host"),
                      login=params.get("user"), password=params.get("password") or None,
                      schema=params.get("dbname"), port=int(params["port"]) if params.get("port") else None)


def _socket_host_from_query(conn: Connection) -> Connection:
    """libpq URIs name a Unix-socket directory as ``?host=/dir``; make it the connection's host."""
    extra = conn.extra_dejson
    if not conn.host and extra.get("host"):
        import json

        conn.host = extra.pop("host")
        conn.extra = json.dumps(extra) if extra else None
    return conn


class WarehouseHook(PostgresHook):
    """The Atlas warehouse as a ``PostgresHook``.

    :param warehouse_conn_id: Airflow connection of the warehouse (default ``atlas_warehouse``;
        when that one is not configured, the embedded PostgreSQL).
    """

    conn_name_attr = "warehouse_conn_id"
    default_conn_name = settings.WAREHOUSE_CONN_ID
    conn_type = "postgres"
    hook_name = "Atlas warehouse"

    def __init__(self, warehouse_conn_id: str = settings.WAREHOUSE_CONN_ID, **kwargs: Any) -> None:
        super().__init__(warehouse_conn_id=warehouse_conn_id, **kwargs)

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = self._resolve_connection()
        return self._connection

    @connection.setter
    def connection(self, value: Connection) -> None:
        self._connection = value

    def _resolve_connection(self) -> Connection:
        conn_id = self.get_conn_id()
        configured = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
        if configured:  # read here, as it is now (a task may be retried after it was corrected)
            from airflow.sdk import Connection

            conn = Connection(conn_id=conn_id, uri=configured) if "://" in configured \
                else Connection.from_json(configured, conn_id=conn_id)
            return _socket_host_from_query(conn)
        if conn_id != self.default_conn_name:
            return self.get_connection(conn_id)
        if os.environ.get(LOOKUP_ENV, "1") == "1":
            try:
                return self.get_connection(conn_id)
            except Exception:  # noqa: BLE001, S110 - not configured, or no Airflow context: embedded default
                pass
        return embedded_connection(conn_id)

    @cached_property
    def dsn(self) -> str:
        """A libpq URI for libraries that take one (Soda, CLI tools); also a valid Airflow
        connection URI. A Unix-socket directory goes into the query (``?host=/dir``)."""
        from urllib.parse import quote, urlencode

        conn = self.connection
        query = {k: v for k, v in conn.extra_dejson.items() if k not in self.ignored_extra_options}
        host = conn.host or ""
        if host.startswith("/"):
            query["host"], host = host, ""
        auth = quote(conn.login or "", safe="") + (f":{quote(conn.password, safe='')}" if conn.password else "")
        netloc = (f"{auth}@" if auth else "") + host + (f":{conn.port}" if conn.port else "")
        database = quote(self.database or conn.schema or "", safe="")
        return f"postgresql://{netloc}/{database}" + (f"?{urlencode(query)}" if query else "")

    def _create_connection(self, conn_args: dict[str, Any]) -> Any:
        """Always psycopg2 (the provider picks psycopg 3 when it is installed): Atlas's loaders use
        psycopg2's ``copy_expert`` and named cursors inside their own transactions."""
        import psycopg2

        return psycopg2.connect(**conn_args)

    def get_conn(self) -> Any:
        """A new psycopg2 connection (autocommit off, bounded lock waits) to a bootstrapped warehouse."""
        from atlas.warehouse import ensure_warehouse
        from atlas.warehouse.connection import configure_session

        conn = super().get_conn()
        self.conn = None  # every caller owns and closes its connection
        configure_session(conn)
        ensure_warehouse(conn)
        return conn

    def get_openlineage_database_info(self, connection: Connection) -> DatabaseInfo:
        """The provider's info; a Unix-socket host is named ``localhost`` in dataset namespaces."""
        from attrs import evolve

        info = super().get_openlineage_database_info(connection)
        if (connection.host or "").startswith("/") or not connection.host:
            info = evolve(info, authority=f"localhost:{connection.port or 5432}")
        return info

    @cached_property
    def _database_info(self) -> DatabaseInfo:
        return self.get_openlineage_database_info(self.connection)

    def lineage_namespace(self) -> str:
        """``postgres://host:port``, as OpenLineage names PostgreSQL datasets."""
        return f"{self._database_info.scheme}://{self._database_info.authority}"

    def lineage_name(self, qualified_table: str) -> str:
        return f"{self._database_info.database}.{qualified_table}"
