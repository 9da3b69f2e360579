"""Read-only snapshots of the warehouse for the api-server: a few pooled connections.

Each request reads every section inside one ``REPEATABLE READ READ ONLY`` transaction, so the
figures on a page agree with each other even while a run commits.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

log = logging.getLogger(__name__)
STATEMENT_TIMEOUT = "15s"


class WarehouseUnavailable(Exception):
    """The warehouse could not be reached or read (HTTP 503); the cause is logged, not returned."""


class SnapshotPool:
    """Up to ``size`` idle connections kept for reuse; broken ones are dropped."""

    def __init__(self, dsn: Callable[[], str] | None = None, size: int = 4) -> None:
        self._dsn = dsn
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue(maxsize=size)
        self._lock = threading.Lock()
        self._bootstrapped = False

    def _connect(self) -> Any:
        from atlas.warehouse import connect, ensure_warehouse, resolve_dsn

        conn = connect((self._dsn or resolve_dsn)())
        with self._lock:
            if not self._bootstrapped:  # atlas_meta exists even before the first run
                ensure_warehouse(conn)
                self._bootstrapped = True
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('statement_timeout', %s, false)", (STATEMENT_TIMEOUT,))
        conn.commit()
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True, autocommit=False)
        return conn

    @contextmanager
    def snapshot(self) -> Iterator[Any]:
        """A connection in a fresh read-only transaction; rolled back and returned to the pool after."""
        import psycopg2

        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = None
        try:
            if conn is None or conn.closed:
                conn = self._connect()
            yield conn
            conn.rollback()
        except psycopg2.Error as exc:
            log.warning("warehouse read failed: %s (SQLSTATE %s)", type(exc).__name__, exc.pgcode)
            if conn is not None:
                conn.close()
            raise WarehouseUnavailable(f"the warehouse could not be read ({type(exc).__name__})") from None
        except BaseException:
            if conn is not None and not conn.closed:
                conn.rollback()
                self._give_back(conn)
            raise
        self._give_back(conn)

    def _give_back(self, conn: PgConnection) -> None:
        try:
            self._idle.put_nowait(conn)
        except queue.Full:
            conn.close()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
