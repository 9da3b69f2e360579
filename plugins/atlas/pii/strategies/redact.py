"""redact: the value becomes NULL; in free text the span is removed (Presidio's redact)."""

from __future__ import annotations

from presidio_anonymizer.operators import Redact as RedactOperator

from atlas.pii.strategies.base import Strategy


class Redact(Strategy):
    name = "redact"
    operator_class = RedactOperator
