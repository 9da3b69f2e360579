"""DDL for the per-table bronze, silver and quarantine tables, derived from the table spec."""

from __future__ import annotations

from atlas.config import TableSpec
from atlas.schema import BRONZE_META, QUARANTINE_META, SILVER_META, silver_types

__all__ = ["BRONZE_META", "QUARANTINE_META", "SILVER_META", "bronze_ddl", "ensure_tables", "quarantine_ddl",
           "silver_ddl", "silver_index_ddl", "silver_types"]


def _create(qualified: str, columns: list[tuple[str, str]], extra: str = "") -> str:
    body = ",\n    ".join(f'"{name}" {sql_type}' for name, sql_type in columns)
    return f"CREATE TABLE IF NOT EXISTS {qualified} (\n    {body}{extra}\n)"


def bronze_ddl(spec: TableSpec) -> str:
    cols = [(c, "text") for c in spec.table_schema.column_names] + list(BRONZE_META)
    # a date's rows in the order they were received: the silver build cuts the slice into row
    # ranges of this order and reads each range through it (also serves "the date's rows")
    index = (f"CREATE INDEX IF NOT EXISTS {spec.table}_slice_order_idx "
             f"ON bronze.{spec.table} (_atlas_logical_date, _atlas_source_file, _atlas_row_number)")
    return _create(f"bronze.{spec.table}", cols) + ";\n" + index


def silver_ddl(spec: TableSpec, qualified: str | None = None, with_key: bool = True) -> str:
    cols = list(silver_types(spec).items()) + list(SILVER_META)
    key = ", ".join(f'"{k}"' for k in spec.table_schema.primary_key)
    extra = f",\n    PRIMARY KEY ({key})" if with_key else ""
    return _create(qualified or f"silver.{spec.table}", cols, extra)


def quarantine_ddl(spec: TableSpec) -> str:
    cols = [(c, "text") for c in spec.table_schema.column_names] + list(QUARANTINE_META)
    # a date's rows are replaced on rerun and counted by reason for Atlas's page: no full scans
    index = (f"CREATE INDEX IF NOT EXISTS {spec.table}_logical_date_idx "
             f"ON quarantine.{spec.table} (_atlas_logical_date)")
    return _create(f"quarantine.{spec.table}", cols) + ";\n" + index


def silver_index_ddl(spec: TableSpec) -> str:
    """The silver table's index on the logical date (not the stage's): replacing a date's slice
    and finding newer versions cost the slice, not the table's whole history."""
    return (f"CREATE INDEX IF NOT EXISTS {spec.table}_logical_date_idx "
            f"ON silver.{spec.table} (_atlas_logical_date)")


def ensure_tables(cur: object, spec: TableSpec) -> None:
    """Create the table's bronze, silver and quarantine tables (and their date indexes) if missing."""
    for ddl in (bronze_ddl(spec), silver_ddl(spec), silver_index_ddl(spec), quarantine_ddl(spec)):
        cur.execute(ddl)  # type: ignore[attr-defined]
