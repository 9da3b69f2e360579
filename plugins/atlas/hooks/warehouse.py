"""Airflow hook for the Atlas warehouse: connection ``atlas_warehouse`` or the embedded default."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook

from atlas import settings


class WarehouseHook(BaseHook):
    """Gives psycopg2 connections and the OpenLineage namespace of the warehouse."""

    conn_name_attr = "warehouse_conn_id"
    default_conn_name = settings.WAREHOUSE_CONN_ID
    conn_type = "postgres"
    hook_name = "Atlas warehouse"

    def __init__(self, warehouse_conn_id: str = settings.WAREHOUSE_CONN_ID) -> None:
        super().__init__()
        self.warehouse_conn_id = warehouse_conn_id

    @cached_property
    def dsn(self) -> str:
        from atlas.warehouse import resolve_dsn

        return resolve_dsn()

    def get_conn(self) -> Any:
        from atlas.warehouse import connect, ensure_warehouse

        conn = connect(self.dsn)
        ensure_warehouse(conn)
        return conn

    @cached_property
    def params(self) -> dict[str, Any]:
        from atlas.warehouse import conn_params

        return conn_params(self.dsn)

    def lineage_namespace(self) -> str:
        """``postgres://host:port`` as OpenLineage names PostgreSQL datasets (sockets: localhost)."""
        host = self.params["host"]
        host = "localhost" if host.startswith("/") else host
        return f"postgres://{host}:{self.params['port']}"

    def lineage_name(self, qualified_table: str) -> str:
        return f"{self.params['dbname']}.{qualified_table}"
