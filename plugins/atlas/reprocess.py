"""Reprocess quarantined rows after their cause is fixed.

Bronze keeps every row as received, so reprocessing a logical date means rebuilding its silver
slice from bronze with the current config: rows that now pass move into silver (once — the
slice is replaced, not appended), rows that still fail stay in quarantine with their reason.
Then rerun the downstream stages (``airflow tasks clear`` from ``check_quality``, or rerun the
DAG for the date: every stage is idempotent).

    python -m atlas.reprocess orders 2026-11-21
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from atlas.config import TableSpec

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection


@dataclass(frozen=True)
class ReprocessResult:
    table: str
    logical_date: str
    quarantined_before: int
    quarantined_after: int
    silver_before: int
    silver_after: int

    @property
    def moved_to_silver(self) -> int:
        return self.silver_after - self.silver_before


def _count(conn: PgConnection, sql: str, ds: str) -> int:
    with conn.cursor() as cur:
        cur.execute(sql, (ds,))
        return int(cur.fetchone()[0])


def reprocess(conn: PgConnection, spec: TableSpec, ds: str, run_id: str, protect: Any = None) -> ReprocessResult:
    """Rebuild the date's silver slice from bronze; ``protect`` defaults to the audited PII policy."""
    from contextlib import ExitStack

    from atlas.operators.guards import slice_guard
    from atlas.silver.build import build_silver
    from atlas.warehouse.pii_findings import load_findings

    findings = load_findings(conn, spec.table, ds)
    with ExitStack() as stack:
        if protect is None:  # as build_silver does: known values redacted, scan workers joined at the end
            from atlas.pii import load_keys, slice_protector

            protect = stack.enter_context(slice_protector(conn, spec.pii, spec.table, findings, ds,
                                                          load_keys())).protect
        quarantine_sql = (f"SELECT count(*) FROM quarantine.{spec.table} WHERE _atlas_logical_date = %s "
                          "AND _atlas_stage = 'silver'")
        silver_sql = f"SELECT count(*) FROM silver.{spec.table} WHERE _atlas_logical_date = %s"
        before = (_count(conn, quarantine_sql, ds), _count(conn, silver_sql, ds))
        conn.commit()
        build_silver(conn, spec, protect, run_id, ds, guard=slice_guard(spec, findings))
        after = (_count(conn, quarantine_sql, ds), _count(conn, silver_sql, ds))
        conn.commit()
    return ReprocessResult(spec.table, ds, before[0], after[0], before[1], after[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Reprocess a table's quarantined rows for a logical date")
    parser.add_argument("table")
    parser.add_argument("ds", help="logical date, YYYY-MM-DD")
    args = parser.parse_args(argv)
    from datetime import UTC, datetime

    from atlas import runtime_env, settings
    from atlas.config import load_valid_specs
    from atlas.warehouse import connect

    runtime_env.configure()
    spec = load_valid_specs(settings.tables_dir())[args.table]
    conn = connect()
    try:
        result = reprocess(conn, spec, args.ds, f"reprocess__{datetime.now(UTC):%Y-%m-%dT%H:%M:%S}")
    finally:
        conn.close()
    print(f"{spec.table} {args.ds}: quarantined {result.quarantined_before} -> {result.quarantined_after}, "
          f"silver {result.silver_before} -> {result.silver_after} ({result.moved_to_silver:+d})")
    print(f"Now rebuild downstream: airflow tasks clear {spec.dag_id} -s {args.ds} -e {args.ds} "
          "-t 'check_quality|build_gold|publish_ai_ready' -y   (or rerun the DAG for the date)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
