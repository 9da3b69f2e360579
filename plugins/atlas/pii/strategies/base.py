"""What every protection strategy provides: whole values, whole columns, free-text spans."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from atlas.pii.entities import tag
from atlas.pii.keys import PiiKeys


@dataclass(frozen=True)
class StrategyContext:
    """Everything a strategy may need for one column."""

    keys: PiiKeys
    entity: str = "PII"
    policy: Any = None  # atlas.config.ColumnPolicy, or None for the default strategy
    reference_date: date | None = None

    def option(self, name: str, default: Any) -> Any:
        return getattr(self.policy, name, default) if self.policy is not None else default


class Strategy:
    """A protection strategy. Subclasses set ``name`` and override :meth:`value`."""

    name: ClassVar[str] = ""
    deterministic: ClassVar[bool] = True  # same input -> same output: map unique values only

    def __init__(self, context: StrategyContext) -> None:
        self.context = context

    def value(self, value: str) -> str | None:
        """Protected form of one whole value (never called with None or blank)."""
        raise NotImplementedError

    def column(self, values: Sequence[str | None]) -> list[str | None]:
        """Protected column: None stays None, blank strings stay as they are."""
        if self.deterministic:
            mapping = {v: self.value(v) for v in set(values) if v is not None and v.strip()}
            return [mapping.get(v, v) if v is not None else None for v in values]
        return [self.value(v) if v is not None and v.strip() else v for v in values]

    def span(self, text: str, entity: str) -> str:
        """Replacement for one PII span inside free text (default: the entity tag)."""
        return tag(entity)
