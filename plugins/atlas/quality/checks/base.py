"""The building blocks of generated checks: a SodaCL check and the context kinds read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from atlas.config import ColumnSpec, TableSpec

# PII strategies whose output no longer looks like the input: format/range rules do not apply.
VALUE_CHANGING = frozenset({"pseudonymize", "mask", "replace", "encrypt", "generalize"})
SILVER_TYPES = {
    "text": "text", "integer": "integer", "bigint": "bigint", "numeric": "numeric",
    "boolean": "boolean", "date": "date", "timestamp": "timestamp with time zone",
}
BRONZE_META = (
    "_atlas_ingested_at", "_atlas_run_id", "_atlas_logical_date", "_atlas_source_file",
    "_atlas_source_checksum", "_atlas_row_number",
)
SILVER_META = ("_atlas_run_id", "_atlas_logical_date", "_atlas_loaded_at", "_atlas_source_file", "_atlas_row_number")
SLICE = "atlas_slice"  # Soda partition of the rows loaded for the run's logical date


@dataclass(frozen=True)
class SodaCheck:
    """One SodaCL check plus the Atlas metadata stored with it as check attributes."""

    line: str
    name: str
    dimension: str
    severity: str
    threshold: str | None
    column: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    whole_table: bool = False  # False: scoped to the logical date's slice where the layer has one

    def to_sodacl(self) -> dict[str, Any]:
        attributes = {"dimension": self.dimension, "severity": self.severity}
        if self.threshold:
            attributes["threshold"] = self.threshold
        if self.column:
            attributes["column"] = self.column
        return {self.line: {"name": self.name, **self.config, "attributes": attributes}}


@dataclass(frozen=True)
class CheckContext:
    """What a check kind needs: the table spec and the layer being checked."""

    spec: TableSpec
    layer: str

    @property
    def columns(self) -> tuple[ColumnSpec, ...]:
        return self.spec.table_schema.columns

    def strategy(self, column: str) -> str | None:
        policy = self.spec.pii.columns.get(column)
        return policy.strategy if policy else None

    def keeps_values(self, column: str) -> bool:
        """True when silver holds the column's values as loaded (no PII strategy or ``keep``)."""
        return self.strategy(column) in (None, "keep")

    def can_be_null(self, column: str) -> bool:
        """Redaction leaves NULLs, so completeness rules do not hold for redacted columns."""
        return self.strategy(column) == "redact"

    def silver_type(self, column: ColumnSpec) -> str:
        if self.strategy(column.name) in VALUE_CHANGING:
            return "text"
        return SILVER_TYPES[column.type]


class CheckKind(Protocol):
    """A kind of generated check: yields zero or more checks for a table and layer."""

    def checks(self, ctx: CheckContext) -> Iterable[SodaCheck]: ...
