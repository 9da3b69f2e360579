"""The building blocks of generated checks: a SodaCL check and the context kinds read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from atlas import schema
from atlas.config import ColumnSpec, TableSpec
from atlas.schema import names

BRONZE_META = names(schema.BRONZE_META)
SILVER_META = names(schema.SILVER_META)
SLICE = "atlas_slice"  # Soda partition of the rows loaded for the run's logical date


@dataclass(frozen=True)
class SodaCheck:
    """One SodaCL check plus the Atlas metadata stored with it as check attributes."""

    line: str
    name: str
    dimension: str
    severity: str
    threshold: str | None = None  # only where Soda's parse of the line says nothing readable (schema)
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
        """The column's type as the catalog reports it (``information_schema.columns.data_type``)."""
        return "text" if schema.changes_type(self.strategy(column.name)) else schema.CATALOG_TYPES[column.type]


class CheckKind(Protocol):
    """A kind of generated check: yields zero or more checks for a table and layer."""

    def checks(self, ctx: CheckContext) -> Iterable[SodaCheck]: ...
