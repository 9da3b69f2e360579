"""The column layout of Atlas's layer tables, stated once.

Bronze keeps every configured column as text plus ingest metadata; silver holds each column in
its declared type (or as text where a PII strategy changes the value) plus load metadata;
quarantine holds the rejected row as text plus why and where it came from. The DDL
(:mod:`atlas.warehouse.tables`), the loaders, the lineage schema facets and the generated
schema checks all read these definitions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atlas.config import ColumnSpec, TableSpec

#: Declared column type -> PostgreSQL type in silver.
SQL_TYPES: dict[str, str] = {
    "text": "text", "integer": "integer", "bigint": "bigint", "numeric": "numeric",
    "boolean": "boolean", "date": "date", "timestamp": "timestamptz",
}
#: The same types as ``information_schema.columns.data_type`` spells them (schema checks).
CATALOG_TYPES: dict[str, str] = {**SQL_TYPES, "timestamp": "timestamp with time zone"}
#: PII strategies that keep a column's declared type and values' shape; every other strategy
#: turns the value into text that no longer looks like the input.
TYPE_PRESERVING = frozenset({"keep", "redact"})

BRONZE_META: tuple[tuple[str, str], ...] = (
    ("_atlas_ingested_at", "timestamptz NOT NULL DEFAULT now()"),
    ("_atlas_run_id", "text NOT NULL"),
    ("_atlas_logical_date", "date NOT NULL"),
    ("_atlas_source_file", "text NOT NULL"),
    ("_atlas_source_checksum", "text NOT NULL"),
    ("_atlas_row_number", "bigint NOT NULL"),
)
SILVER_META: tuple[tuple[str, str], ...] = (
    ("_atlas_run_id", "text NOT NULL"),
    ("_atlas_logical_date", "date NOT NULL"),
    ("_atlas_loaded_at", "timestamptz NOT NULL DEFAULT now()"),
    ("_atlas_source_file", "text NOT NULL"),
    ("_atlas_row_number", "bigint NOT NULL"),
)
QUARANTINE_META: tuple[tuple[str, str], ...] = (
    ("_atlas_stage", "text NOT NULL"),
    ("_atlas_rule", "text NOT NULL"),
    ("_atlas_reason", "text NOT NULL"),
    ("_atlas_run_id", "text NOT NULL"),
    ("_atlas_logical_date", "date NOT NULL"),
    ("_atlas_source_file", "text NOT NULL"),
    ("_atlas_row_number", "bigint NOT NULL"),
    ("_atlas_quarantined_at", "timestamptz NOT NULL DEFAULT now()"),
)
#: Columns whose values the database fills in (never written by the loaders).
DEFAULTED = frozenset({"_atlas_ingested_at", "_atlas_loaded_at", "_atlas_quarantined_at"})


def names(meta: tuple[tuple[str, str], ...], *, written: bool = False) -> tuple[str, ...]:
    """The column names of a metadata block (``written``: without the database-filled ones)."""
    return tuple(name for name, _ in meta if not (written and name in DEFAULTED))


def changes_type(strategy: str | None) -> bool:
    """Whether a column protected with ``strategy`` is stored as text in silver."""
    return strategy is not None and strategy not in TYPE_PRESERVING


def column_type(column: ColumnSpec, types: dict[str, str] = SQL_TYPES) -> str:
    """A column's declared type as ``types`` spells it; in SQL, a numeric with a precision is
    ``numeric(precision, scale)`` (the catalog spells it plain ``numeric``)."""
    if types is SQL_TYPES and column.type == "numeric" and column.precision is not None:
        return f"numeric({column.precision}, {column.scale or 0})"
    return types[column.type]


def silver_types(spec: TableSpec, types: dict[str, str] = SQL_TYPES) -> dict[str, str]:
    """Type of each silver column: declared, or text where protection changes the value."""
    out = {}
    for column in spec.table_schema.columns:
        policy = spec.pii.columns.get(column.name)
        out[column.name] = "text" if changes_type(policy.strategy if policy else None) else column_type(column, types)
    return out
