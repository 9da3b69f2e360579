"""What every protection strategy provides: whole values, whole columns, free-text spans.

A strategy is a presidio-anonymizer operator (see :mod:`atlas.pii.anonymizer`) with the
column's parameters; it runs the operator through Presidio's ``Operator.operate`` interface
once per distinct value (or span), or through ``AnonymizerEngine`` (:meth:`engine_value`,
:meth:`engine_text`) with the same result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from presidio_anonymizer.operators import Operator, Replace

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
    """A protection strategy. Subclasses set ``name``, ``operator_class`` (and
    ``span_operator_class`` when spans in free text are treated differently) and
    :meth:`operator_params`."""

    name: ClassVar[str] = ""
    deterministic: ClassVar[bool] = True  # same input -> same output: map unique values only
    operator_class: ClassVar[type[Operator]] = Replace
    span_operator_class: ClassVar[type[Operator] | None] = None  # None: operator_class

    def __init__(self, context: StrategyContext) -> None:
        self.context = context
        self.operator = self.operator_class()
        self.span_operator = (self.span_operator_class or self.operator_class)()
        self.params = self.operator_params()
        self.span_params = self.params if self.span_operator_class is None else {}
        self._value_params = {**self.params, "entity_type": context.entity}
        self.operator.validate(self._value_params)

    def operator_params(self) -> dict[str, Any]:
        """The operator's parameters for this column (keys, keep_last, mode ...)."""
        return {}

    def value(self, value: str) -> str | None:
        """Protected form of one whole value (never called with None or blank); an empty result
        is NULL."""
        return self.operator.operate(value, self._value_params) or None

    def column(self, values: Sequence[str | None]) -> list[str | None]:
        """Protected column: None stays None, blank strings stay as they are."""
        if self.deterministic:
            mapping = {v: self.value(v) for v in set(values) if v is not None and v.strip()}
            return [mapping.get(v, v) if v is not None else None for v in values]
        return [self.value(v) if v is not None and v.strip() else v for v in values]

    def span(self, text: str, entity: str) -> str:
        """Replacement for one PII span inside free text."""
        return self.span_operator.operate(text, {**self.span_params, "entity_type": entity})

    # ------------------------------------------------------------ through AnonymizerEngine
    def engine_value(self, value: str) -> str | None:
        """:meth:`value` through Presidio's ``AnonymizerEngine``."""
        from atlas.pii.anonymizer import anonymize_with_engine

        return anonymize_with_engine(value, [(0, len(value), self.context.entity)],
                                     self.operator.operator_name(), self.params) or None

    def engine_text(self, text: str, spans: Sequence[tuple[int, int, str]]) -> str:
        """``text`` with its (sorted, non-overlapping) spans replaced through ``AnonymizerEngine``."""
        from atlas.pii.anonymizer import anonymize_with_engine

        return anonymize_with_engine(text, list(spans), self.span_operator.operator_name(), self.span_params)
