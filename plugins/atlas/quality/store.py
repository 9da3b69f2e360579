"""Store a report in atlas_meta: check results and dimension scores, replacing the day's rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atlas import settings
from atlas.quality.model import CheckResult, QualityReport, score

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

DDL_FILE = "quality.sql"


def ensure_quality_tables(conn: PgConnection) -> None:
    """Apply include/sql/ddl/quality.sql once per database (cheap no-op when already there)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('atlas_meta.quality_scores'), to_regclass('atlas_meta.quality_daily_scores')")
        if all(cur.fetchone()):
            return
        cur.execute("SELECT pg_advisory_xact_lock(4243)")
        cur.execute((settings.include_dir() / "sql" / "ddl" / DDL_FILE).read_text(encoding="utf-8"))
    conn.commit()


def store_report(conn: PgConnection, report: QualityReport) -> None:
    """Replace the rows of every dataset in ``report`` for its layer and logical date; one transaction."""
    from psycopg2.extras import execute_values

    ensure_quality_tables(conn)
    tables = sorted({r.table for r in report.results})
    key = (tables, report.layer, report.logical_date)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"atlas_quality:{report.layer}",))
        for table in ("quality_results", "quality_scores"):
            cur.execute(
                f"DELETE FROM atlas_meta.{table} WHERE table_name = ANY(%s) AND layer = %s AND logical_date = %s",
                key,
            )
        if not report.results:
            conn.commit()
            return
        execute_values(
            cur,
            "INSERT INTO atlas_meta.quality_results (table_name, layer, check_name, dimension, severity,"
            " outcome, measured_value, threshold, run_id, logical_date) VALUES %s",
            [(r.table, r.layer, r.name, r.dimension, r.severity, r.outcome, r.measured_value, r.threshold,
              report.run_id, report.logical_date) for r in report.results],
        )
        execute_values(
            cur,
            "INSERT INTO atlas_meta.quality_scores (table_name, layer, dimension, score, checks, passed,"
            " warned, failed, run_id, logical_date) VALUES %s",
            [row for table in tables for row in _score_rows(report, [r for r in report.results if r.table == table])],
        )
    conn.commit()


def _score_rows(report: QualityReport, results: list[CheckResult]) -> list[tuple[Any, ...]]:
    rows = []
    for dimension, value in score(results).items():
        scope = results if dimension == "overall" else [r for r in results if r.dimension == dimension]
        rows.append((
            results[0].table, report.layer, dimension, value, len(scope), sum(r.passed for r in scope),
            sum(not r.passed and not r.blocking for r in scope), sum(r.blocking for r in scope),
            report.run_id, report.logical_date,
        ))
    return rows
