"""What column classification found: one record per column, never any values."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Kind = Literal["structured", "free_text", "none"]
PolicySource = Literal["config", "default", "none"]

KINDS: tuple[str, ...] = ("structured", "free_text", "none")
POLICY_SOURCES: tuple[str, ...] = ("config", "default", "none")


@dataclass(frozen=True)
class ColumnFinding:
    """The classification of one column and the strategy chosen for it.

    ``kind``: ``structured`` (the whole value is PII), ``free_text`` (text containing PII spans)
    or ``none``. ``hit_rate`` is the share of sampled values on which the deciding detectors
    fired; ``recognizers`` are the names (as in ``PiiSpec.recognizers``) that fired.
    """

    column: str
    kind: Kind
    entity_types: tuple[str, ...]
    confidence: float
    hit_rate: float
    rows_scanned: int
    recognizers: tuple[str, ...]
    strategy: str
    policy_source: PolicySource

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        if self.policy_source not in POLICY_SOURCES:
            raise ValueError(f"policy_source must be one of {POLICY_SOURCES}, not {self.policy_source!r}")

    @property
    def is_protected(self) -> bool:
        """Whether the protector applies a strategy to this column (``keep`` included)."""
        return self.kind != "none" or self.policy_source == "config"

    def as_record(self) -> dict[str, Any]:
        """Row for ``atlas_meta.pii_findings`` (the caller adds table_name, run_id, logical_date)."""
        record = asdict(self)
        record["entity_types"] = list(self.entity_types)
        record["recognizers"] = list(self.recognizers)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ColumnFinding:
        """Inverse of :meth:`as_record` (extra keys such as table_name are ignored)."""
        return cls(
            column=record["column"],
            kind=record["kind"],
            entity_types=tuple(record["entity_types"]),
            confidence=float(record["confidence"]),
            hit_rate=float(record["hit_rate"]),
            rows_scanned=int(record["rows_scanned"]),
            recognizers=tuple(record["recognizers"]),
            strategy=record["strategy"],
            policy_source=record["policy_source"],
        )
