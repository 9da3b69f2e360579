"""Create the warehouse schemas and Atlas's metadata tables (idempotent)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atlas import settings

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

SCHEMAS = ("bronze", "silver", "gold", "ai_ready", "quarantine", "atlas_meta")
DDL_FILES = ("atlas_meta.sql", "quality.sql", "retention.sql")  # in order; each is idempotent


def ensure_warehouse(conn: PgConnection) -> None:
    """Create schemas and ``atlas_meta`` tables if missing; commits."""
    ddl_dir = settings.include_dir() / "sql" / "ddl"
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(4242)")  # concurrent first runs
        for schema in SCHEMAS:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for name in DDL_FILES:
            cur.execute((ddl_dir / name).read_text(encoding="utf-8"))
    conn.commit()
