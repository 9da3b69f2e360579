"""Sampling bronze for PII detection and the audit of findings in ``atlas_meta.pii_findings``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from atlas.config import TableSpec
from atlas.warehouse.bulk_copy import quote_ident

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

FINDING_FIELDS = ("column", "kind", "entity_types", "confidence", "hit_rate", "rows_scanned",
                  "recognizers", "strategy", "policy_source")


def sample_bronze(conn: PgConnection, spec: TableSpec, ds: str, size: int) -> dict[str, list[str | None]]:
    """A deterministic sample across the whole slice (hash order, not the file's head)."""
    columns = list(spec.table_schema.column_names)
    select = ", ".join(quote_ident(c) for c in columns)
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT {select} FROM bronze.{spec.table} WHERE _atlas_logical_date = %s "
            "ORDER BY md5(_atlas_source_checksum || ':' || _atlas_row_number::text) LIMIT %s",
            (ds, size),
        )
        rows = cur.fetchall()
    return {name: [row[i] for row in rows] for i, name in enumerate(columns)}


def store_findings(conn: PgConnection, table: str, findings: Sequence[Any], run_id: str, ds: str) -> None:
    """Replace the logical date's findings (no values are ever stored)."""
    with conn.cursor() as cur:
        cur.execute("DELETE FROM atlas_meta.pii_findings WHERE table_name = %s AND logical_date = %s", (table, ds))
        for finding in findings:
            record = finding.as_record()
            cur.execute(
                "INSERT INTO atlas_meta.pii_findings (table_name, column_name, kind, entity_types, confidence, "
                "hit_rate, rows_scanned, recognizers, strategy, policy_source, run_id, logical_date) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (table, record["column"], record["kind"], list(record["entity_types"]), record["confidence"],
                 record["hit_rate"], record["rows_scanned"], list(record["recognizers"]), record["strategy"],
                 record["policy_source"], run_id, ds),
            )
    conn.commit()


def load_findings(conn: PgConnection, table: str, ds: str) -> list[Any]:
    """Findings recorded by detect_pii for this logical date, as ColumnFinding objects."""
    from atlas.pii import ColumnFinding

    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name, kind, entity_types, confidence, hit_rate, rows_scanned, recognizers, strategy, "
            "policy_source FROM atlas_meta.pii_findings WHERE table_name = %s AND logical_date = %s "
            "ORDER BY column_name", (table, ds))
        rows = cur.fetchall()
    return [ColumnFinding(**dict(zip(FINDING_FIELDS, (r[0], r[1], tuple(r[2]), r[3], r[4], r[5], tuple(r[6]),
                                                       r[7], r[8]), strict=True))) for r in rows]
