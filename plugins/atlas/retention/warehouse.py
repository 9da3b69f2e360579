"""Warehouse layers: expired logical-date slices (bronze, quarantine, silver) and stale gold builds."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from atlas.config import TableSpec
from atlas.retention.purge import Purge, record

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection
    from psycopg2.extensions import cursor as PgCursor


def _exists(cur: PgCursor, qualified: str) -> bool:
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (qualified,))
    return bool(cur.fetchone()[0])


def purge_slices(conn: PgConnection, spec: TableSpec, layer: str, days: int, cutoff: date, run_id: str) -> Purge:
    """Delete the rows of ``<layer>.<table>`` whose logical date is before ``cutoff``, in one transaction.

    For silver, a row's logical date is that of the load that last wrote it, so a row still sent
    in newer extracts is never expired.
    """
    qualified = f"{layer}.{spec.table}"
    purge = Purge(spec.table, layer, days, cutoff.isoformat())
    with conn, conn.cursor() as cur:  # commits, or rolls back on any error
        if not _exists(cur, qualified):
            return purge
        cur.execute(
            f"WITH gone AS (DELETE FROM {qualified} WHERE _atlas_logical_date < %s "
            "RETURNING _atlas_logical_date) "
            "SELECT _atlas_logical_date::text, count(*) FROM gone GROUP BY 1 ORDER BY 1", (cutoff,))
        by_date = cur.fetchall()
        purge = Purge(spec.table, layer, days, cutoff.isoformat(), tuple(d for d, _ in by_date),
                      sum(n for _, n in by_date), 0, (qualified,) if by_date else ())
        if purge.changed:
            record(cur, purge, run_id)
    if purge.rows:
        with conn.cursor() as cur:  # fresh statistics for the planner after a large delete
            cur.execute(f"ANALYZE {qualified}")
        conn.commit()
    return purge


def purge_gold(conn: PgConnection, spec: TableSpec, days: int, cutoff: date, run_id: str) -> Purge:
    """Drop the table's gold models whose latest build (``as_of_date``) is before ``cutoff``.

    Gold models are rebuilt from silver as of each run's date, so a model in use is never older
    than its table's last run: this only removes builds nobody refreshes any more (a table whose
    extracts stopped), which still hold a snapshot of silver as it was. A model without an
    ``as_of_date`` column cannot be dated and is kept.
    """
    dropped: list[str] = []
    builds: set[str] = set()
    rows = 0
    with conn, conn.cursor() as cur:  # commits, or rolls back on any error
        for model in spec.gold.models:
            qualified = f"gold.{model}"
            # the lock each model script takes while it rebuilds (include/sql/gold/*.sql)
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"atlas.{qualified}",))
            if not _exists(cur, qualified):
                continue
            cur.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = 'gold' "
                        "AND table_name = %s AND column_name = 'as_of_date'", (model,))
            if cur.fetchone() is None:
                continue
            cur.execute(f"SELECT max(as_of_date)::text, count(*) FROM {qualified}")
            built, count = cur.fetchone()
            if built is None or date.fromisoformat(built) >= cutoff:
                continue
            cur.execute(f"DROP TABLE {qualified}")
            dropped.append(qualified)
            builds.add(built)
            rows += count
        purge = Purge(spec.table, "gold", days, cutoff.isoformat(), tuple(sorted(builds)), rows, 0,
                      tuple(dropped))
        if purge.changed:
            record(cur, purge, run_id)
    return purge
