"""Test data for the quality tests: clean tables and a builder for Atlas-shaped tables."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from atlas.config import TableSpec
from atlas.pii.pseudonym import pseudonymize
from atlas.quality import QualityReport, run_quality
from atlas.quality.checks import CheckContext
from atlas.quality.checks.base import BRONZE_META, SILVER_META

DAY = date(2031, 3, 14)  # far from any date other tests use; results are deleted afterwards
KEY = b"quality-tests-key-0123456789abcdef"
ALICE, BOB, CAROL = (pseudonymize(f"C00000{i}", KEY) for i in range(1, 4))


def clean_customers() -> list[dict[str, Any]]:
    return [
        {"customer_id": cid, "customer_name": pseudonymize(name, KEY), "email_address": pseudonymize(name, KEY),
         "phone_number": "********12", "city": "Aarhus", "country": "DK", "date_of_birth": "1980",
         "created_at": f"{DAY} 0{i}:00Z", "is_active": True, "customer_tier": tier}
        for i, (cid, name, tier) in enumerate(
            [(ALICE, "Alice", "gold"), (BOB, "Bob", "silver"), (CAROL, "Carol", "bronze")], start=1)
    ]


def clean_orders() -> list[dict[str, Any]]:
    return [
        {"order_id": f"O0000000{i}", "customer_id": cid, "order_date": f"{DAY} 1{i}:00Z",
         "order_amount": amount, "currency": "DKK", "status": status, "payment_method": "invoice"}
        for i, (cid, amount, status) in enumerate(
            [(ALICE, "100.00", "completed"), (ALICE, "50.00", "pending"), (BOB, "20.00", "refunded"),
             (CAROL, "75.50", "completed")], start=1)
    ]


class Warehouse:
    """Creates tables laid out like Atlas's bronze/silver/gold in throwaway schemas."""

    def __init__(self, conn: Any, dsn: str, specs: dict[str, TableSpec]) -> None:
        self.conn, self.dsn, self.specs = conn, dsn, specs
        suffix = uuid.uuid4().hex[:8]
        self.schemas = {layer: f"qt_{layer}_{suffix}" for layer in ("bronze", "silver", "gold")}
        with conn.cursor() as cur:
            for schema in self.schemas.values():
                cur.execute(f"CREATE SCHEMA {schema}")
        conn.commit()

    def create(self, layer: str, table: str, columns: dict[str, str], rows: list[dict[str, Any]]) -> None:
        schema = self.schemas[layer]
        self.conn.rollback()
        with self.conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {schema}.{table}")
            cur.execute(f"CREATE TABLE {schema}.{table} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
            for row in rows:
                names = [c for c in columns if c in row]
                cur.execute(
                    f"INSERT INTO {schema}.{table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})",
                    [row[c] for c in names],
                )
        self.conn.commit()

    def silver(self, table: str, rows: list[dict[str, Any]], day: date = DAY, **types: str) -> None:
        ctx = CheckContext(self.specs[table], "silver")
        columns = {c.name: ctx.silver_type(c) for c in ctx.columns}
        columns.update({m: "text" for m in SILVER_META})
        columns.update(_atlas_logical_date="date", _atlas_loaded_at="timestamptz", _atlas_row_number="bigint")
        columns.update(types)
        meta = {"_atlas_run_id": "r1", "_atlas_logical_date": day, "_atlas_source_file": "f.csv"}
        self.create("silver", table, {c: t for c, t in columns.items() if t},
                    [{**meta, "_atlas_row_number": i, **row} for i, row in enumerate(rows, start=1)])

    def bronze(self, table: str, rows: list[dict[str, Any]], day: date = DAY, drop: str | None = None) -> None:
        columns = {c: "text" for c in (*self.specs[table].table_schema.column_names, *BRONZE_META) if c != drop}
        columns["_atlas_logical_date"] = "date"
        meta = {"_atlas_run_id": "r1", "_atlas_logical_date": day}
        self.create("bronze", table, columns, [{**meta, **row} for row in rows])

    def run(self, table: str, layer: str = "silver", day: date | str = DAY, run_id: str = "run_1",
            spec: TableSpec | None = None) -> QualityReport:
        return run_quality(self.dsn, spec or self.specs[table], layer, run_id, day, schemas=self.schemas)

    def fetch(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        self.conn.commit()
        return rows

    def clear_results(self) -> None:
        """Delete the stored results of the test dates (2031 and later)."""
        self.conn.rollback()
        with self.conn.cursor() as cur:
            for table in ("quality_results", "quality_scores"):
                cur.execute("SELECT to_regclass(%s)", (f"atlas_meta.{table}",))
                if cur.fetchone()[0]:
                    cur.execute(f"DELETE FROM atlas_meta.{table} WHERE logical_date >= %s", (date(2031, 1, 1),))
        self.conn.commit()

    def drop(self) -> None:
        self.clear_results()
        with self.conn.cursor() as cur:
            for schema in self.schemas.values():
                cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        self.conn.commit()


def outcomes(report: QualityReport) -> dict[str, str]:
    return {r.name: r.outcome for r in report.results}


def not_passing(report: QualityReport) -> dict[str, str]:
    return {r.name: r.outcome for r in report.results if r.outcome != "pass"}
