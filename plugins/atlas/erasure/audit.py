"""The audit record of an erasure request in ``atlas_meta.erasure_requests``.

One row per request: when, by whom, which table and key column, the subject's pseudonym (never
the raw key), the status, and cumulative counts per section (``tables``, ``ai_ready``, ``gold``)
and name. Counts are added step by step inside the steps' own transactions where they have one,
so a retried request ends with the counts of every attempt.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from atlas.erasure.request import ErasureRequest

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection
    from psycopg2.extensions import cursor as PgCursor


def start(conn: PgConnection, request_id: str, requested_at: datetime, requested_by: str, request: ErasureRequest,
          pseudonym: str) -> None:
    """Create the record (status running); a retry of the same request keeps its counts."""
    with conn.cursor() as cur:
        cur.execute(
            """
            INSERT INTO atlas_meta.erasure_requests
                (request_id, requested_at, requested_by, table_name, key_column, subject_pseudonym, status)
            VALUES (%s, %s, %s, %s, %s, %s, 'running')
            ON CONFLICT (request_id) DO UPDATE SET status = 'running', completed_at = NULL
            """,
            (request_id, requested_at, requested_by, request.table, request.key_column, pseudonym),
        )
    conn.commit()


def add_counts(cur: PgCursor, request_id: str, section: str, name: str, counts: dict[str, int]) -> None:
    """Add ``counts`` under ``section.name`` (inside the caller's transaction)."""
    cur.execute("SELECT counts, tables FROM atlas_meta.erasure_requests WHERE request_id = %s FOR UPDATE",
                (request_id,))
    stored, tables = cur.fetchone()
    entry = stored.setdefault(section, {}).setdefault(name, {})
    for key, value in counts.items():
        entry[key] = entry.get(key, 0) + int(value)
    if section == "tables" and any(counts.values()) and name not in tables:
        tables = sorted([*tables, name])
    cur.execute("UPDATE atlas_meta.erasure_requests SET counts = %s, tables = %s WHERE request_id = %s",
                (json.dumps(stored, sort_keys=True), tables, request_id))


def finish(conn: PgConnection, request_id: str, status: str) -> None:
    """Close the record: status, whether any layer held the subject, completion time."""
    with conn.cursor() as cur:
        cur.execute("SELECT counts FROM atlas_meta.erasure_requests WHERE request_id = %s", (request_id,))
        counts = cur.fetchone()[0]
        found = any(value for section in counts.values() for entry in section.values()
                    for key, value in entry.items() if key != "rebuilt")
        cur.execute("UPDATE atlas_meta.erasure_requests SET status = %s, found = %s, completed_at = now() "
                    "WHERE request_id = %s", (status, found, request_id))
    conn.commit()


def read(conn: PgConnection, request_id: str) -> dict[str, Any]:
    """The stored record as a dict (no raw key exists in it to return)."""
    with conn.cursor() as cur:
        cur.execute("SELECT request_id, requested_at, requested_by, table_name, key_column, subject_pseudonym, "
                    "status, found, tables, counts, completed_at FROM atlas_meta.erasure_requests "
                    "WHERE request_id = %s", (request_id,))
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
    conn.rollback()
    return dict(zip(names, row, strict=True)) if row else {}
