"""Session-level advisory locks shared by the stages that replace or rewrite the same objects."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection


def ai_ready_lock_key(dataset: str) -> str:
    """The lock ``publish_ai_ready`` holds while it replaces a version of ``dataset``."""
    return f"atlas.ai_ready.{dataset}"


@contextmanager
def session_locks(conn: PgConnection, keys: list[str]) -> Iterator[None]:
    """Hold ``pg_advisory_lock(hashtext(key))`` for every key (sorted: no lock-order deadlocks).

    Session locks outlive the transactions run inside the block; ``conn`` must have no open
    transaction on entry. Released on exit, also after an error.
    """
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE

    if conn.get_transaction_status() != TRANSACTION_STATUS_IDLE:
        raise RuntimeError("session_locks needs a connection without an open transaction")
    ordered = sorted(set(keys))
    with conn.cursor() as cur:
        for key in ordered:
            cur.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
    conn.commit()
    try:
        yield
    finally:
        if conn.closed == 0:
            conn.rollback()
            with conn.cursor() as cur:
                for key in reversed(ordered):
                    cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
            conn.commit()
