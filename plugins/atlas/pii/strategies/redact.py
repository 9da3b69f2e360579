"""redact: the value becomes NULL; in free text the span is removed (Presidio's redact)."""

from __future__ import annotations

from collections.abc import Sequence

from presidio_anonymizer.operators import Redact as RedactOperator

from atlas.pii.strategies.base import Strategy


class Redact(Strategy):
    name = "redact"
    operator_class = RedactOperator

    def column(self, values: Sequence[str | None]) -> list[str | None]:
        """Every non-blank value NULL (what the operator's empty result means), without a call per value."""
        return [None if v is not None and v.strip() else v for v in values]
