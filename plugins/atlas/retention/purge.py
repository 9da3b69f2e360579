"""Purge one table's expired slices, layer by layer; each layer commits with its purge record."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from atlas.config import TableSpec

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath
    from psycopg2.extensions import connection as PgConnection
    from psycopg2.extensions import cursor as PgCursor

log = logging.getLogger(__name__)

# in the order they are purged; "archive" is the lake copy of bronze and follows bronze's period
LAYERS = ("bronze", "archive", "quarantine", "silver", "gold", "ai_ready")
PERIOD_OF = {"archive": "bronze"}


@dataclass(frozen=True)
class Purge:
    """What one layer of one table lost: counts, dates and object names, never values."""

    table: str
    layer: str
    retention_days: int
    cutoff: str  # ISO date: everything dated before it was deleted
    dates: tuple[str, ...] = ()  # logical dates, versions or build dates deleted
    rows: int = 0
    files: int = 0
    objects: tuple[str, ...] = ()  # tables and lake folders touched

    @property
    def changed(self) -> bool:
        return bool(self.rows or self.files or self.dates)

    def summary(self) -> dict[str, Any]:
        return {"table": self.table, "layer": self.layer, "retention_days": self.retention_days,
                "cutoff": self.cutoff, "dates": len(self.dates),
                "first_date": self.dates[0] if self.dates else None,
                "last_date": self.dates[-1] if self.dates else None,
                "rows": self.rows, "files": self.files}


def cutoff_date(ds: str, days: int) -> date:
    """The first day kept: slices dated before it are expired."""
    return date.fromisoformat(ds) - timedelta(days=days)


def period(spec: TableSpec, layer: str) -> int | None:
    return spec.retention.days(PERIOD_OF.get(layer, layer))


def record(cur: PgCursor, purge: Purge, run_id: str) -> None:
    """Add the purge to ``atlas_meta.retention_purges`` (a retry of the same run adds up)."""
    cur.execute(
        """
        INSERT INTO atlas_meta.retention_purges (run_id, table_name, layer, retention_days, cutoff_date,
            first_date, last_date, dates, rows, files, objects)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (run_id, table_name, layer) DO UPDATE SET
            first_date = LEAST(retention_purges.first_date, EXCLUDED.first_date),
            last_date = GREATEST(retention_purges.last_date, EXCLUDED.last_date),
            dates = retention_purges.dates + EXCLUDED.dates,
            rows = retention_purges.rows + EXCLUDED.rows,
            files = retention_purges.files + EXCLUDED.files,
            objects = ARRAY(SELECT DISTINCT unnest(retention_purges.objects || EXCLUDED.objects) ORDER BY 1),
            purged_at = now()
        """,
        (run_id, purge.table, purge.layer, purge.retention_days, purge.cutoff,
         purge.dates[0] if purge.dates else None, purge.dates[-1] if purge.dates else None,
         len(purge.dates), purge.rows, purge.files, list(purge.objects)),
    )


def purge_table(conn: PgConnection, spec: TableSpec, ds: str, run_id: str, lake_root: ObjectStoragePath) -> list[Purge]:
    """Purge every layer of ``spec`` with a period, as of ``ds``; returns one Purge per such layer.

    ``conn`` is a psycopg2 connection without an open transaction. Running it again for the same
    ``ds`` finds nothing left to delete and records nothing.
    """
    from atlas.retention import lake, warehouse

    purgers = {
        "bronze": lambda days, cut: warehouse.purge_slices(conn, spec, "bronze", days, cut, run_id),
        "archive": lambda days, cut: lake.purge_archive(conn, spec, days, cut, run_id, lake_root),
        "quarantine": lambda days, cut: warehouse.purge_slices(conn, spec, "quarantine", days, cut, run_id),
        "silver": lambda days, cut: warehouse.purge_slices(conn, spec, "silver", days, cut, run_id),
        "gold": lambda days, cut: warehouse.purge_gold(conn, spec, days, cut, run_id),
        "ai_ready": lambda days, cut: lake.purge_ai_ready(conn, spec, days, cut, run_id, lake_root),
    }
    purges = []
    for layer in LAYERS:
        days = period(spec, layer)
        if days is None:
            continue
        purge = purgers[layer](days, cutoff_date(ds, days))
        if purge is not None:
            purges.append(purge)
            log.info("%s %s (keep %d days, before %s): %d date(s), %d row(s), %d file(s) deleted",
                     spec.table, layer, days, purge.cutoff, len(purge.dates), purge.rows, purge.files)
    return purges
