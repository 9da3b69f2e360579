"""DDL for the per-table bronze, silver and quarantine tables, derived from the table spec."""

from __future__ import annotations

from atlas.config import TableSpec

SQL_TYPES = {
    "text": "text", "integer": "integer", "bigint": "bigint", "numeric": "numeric",
    "boolean": "boolean", "date": "date", "timestamp": "timestamptz",
}
# Strategies that keep the declared type: everything else turns the value into text.
TYPE_PRESERVING = frozenset({"keep", "redact"})

BRONZE_META = (
    ("_atlas_ingested_at", "timestamptz NOT NULL DEFAULT now()"),
    ("_atlas_run_id", "text NOT NULL"),
    ("_atlas_logical_date", "date NOT NULL"),
    ("_atlas_source_file", "text NOT NULL"),
    ("_atlas_source_checksum", "text NOT NULL"),
    ("_atlas_row_number", "bigint NOT NULL"),
)
SILVER_META = (
    ("_atlas_run_id", "text NOT NULL"),
    ("_atlas_logical_date", "date NOT NULL"),
    ("_atlas_loaded_at", "timestamptz NOT NULL DEFAULT now()"),
    ("_atlas_source_file", "text NOT NULL"),
    ("_atlas_row_number", "bigint NOT NULL"),
)
QUARANTINE_META = (
    ("_atlas_stage", "text NOT NULL"),
    ("_atlas_rule", "text NOT NULL"),
    ("_atlas_reason", "text NOT NULL"),
    ("_atlas_run_id", "text NOT NULL"),
    ("_atlas_logical_date", "date NOT NULL"),
    ("_atlas_source_file", "text NOT NULL"),
    ("_atlas_row_number", "bigint NOT NULL"),
    ("_atlas_quarantined_at", "timestamptz NOT NULL DEFAULT now()"),
)


def silver_types(spec: TableSpec) -> dict[str, str]:
    """SQL type of each silver column: declared, or text where protection changes the value."""
    types = {}
    for column in spec.table_schema.columns:
        policy = spec.pii.columns.get(column.name)
        protected = policy is not None and policy.strategy not in TYPE_PRESERVING
        types[column.name] = "text" if protected else SQL_TYPES[column.type]
    return types


def _create(qualified: str, columns: list[tuple[str, str]], extra: str = "") -> str:
    body = ",\n    ".join(f'"{name}" {sql_type}' for name, sql_type in columns)
    return f"CREATE TABLE IF NOT EXISTS {qualified} (\n    {body}{extra}\n)"


def bronze_ddl(spec: TableSpec) -> str:
    cols = [(c, "text") for c in spec.table_schema.column_names] + list(BRONZE_META)
    index = (f"CREATE INDEX IF NOT EXISTS {spec.table}_logical_date_idx "
             f"ON bronze.{spec.table} (_atlas_logical_date)")
    return _create(f"bronze.{spec.table}", cols) + ";\n" + index


def silver_ddl(spec: TableSpec, qualified: str | None = None, with_key: bool = True) -> str:
    cols = list(silver_types(spec).items()) + list(SILVER_META)
    key = ", ".join(f'"{k}"' for k in spec.table_schema.primary_key)
    extra = f",\n    PRIMARY KEY ({key})" if with_key else ""
    return _create(qualified or f"silver.{spec.table}", cols, extra)


def quarantine_ddl(spec: TableSpec) -> str:
    cols = [(c, "text") for c in spec.table_schema.column_names] + list(QUARANTINE_META)
    return _create(f"quarantine.{spec.table}", cols)


def ensure_tables(cur: object, spec: TableSpec) -> None:
    """Create the table's bronze, silver and quarantine tables if missing."""
    for ddl in (bronze_ddl(spec), silver_ddl(spec), quarantine_ddl(spec)):
        cur.execute(ddl)  # type: ignore[attr-defined]
