"""replace: the value (or, in free text, each PII span) becomes its entity tag (Presidio's
replace with no new value: ``<ENTITY>``)."""

from __future__ import annotations

from presidio_anonymizer.operators import Replace as ReplaceOperator

from atlas.pii.strategies.base import Strategy


class Replace(Strategy):
    """``anders@example.dk`` -> ``<EMAIL_ADDRESS>``."""

    name = "replace"
    operator_class = ReplaceOperator
