"""The PostgreSQL warehouse: a configured connection, or the embedded default."""

from atlas.warehouse.bootstrap import ensure_warehouse
from atlas.warehouse.connection import conn_params, connect, resolve_dsn

__all__ = ["conn_params", "connect", "ensure_warehouse", "resolve_dsn"]
