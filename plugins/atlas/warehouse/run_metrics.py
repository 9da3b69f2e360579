"""``atlas_meta.run_metrics``: figures a stage records per table (or gold model) and logical date."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from psycopg2.extensions import cursor as PgCursor


def record_stage_metrics(cur: PgCursor, table: str, stage: str, metrics: Mapping[str, float], run_id: str,
                         ds: str) -> None:
    """Replace ``stage``'s figures for ``table`` on ``ds`` (inside the caller's transaction)."""
    cur.execute("DELETE FROM atlas_meta.run_metrics WHERE table_name = %s AND stage = %s AND logical_date = %s",
                (table, stage, ds))
    for metric, value in metrics.items():
        cur.execute("INSERT INTO atlas_meta.run_metrics (table_name, stage, metric, value, run_id, logical_date) "
                    "VALUES (%s, %s, %s, %s, %s, %s)", (table, stage, metric, value, run_id, ds))
