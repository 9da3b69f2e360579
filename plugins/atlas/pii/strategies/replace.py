"""replace: the value (or, in free text, each PII span) becomes its entity tag."""

from __future__ import annotations

from atlas.pii.entities import tag
from atlas.pii.strategies.base import Strategy


class Replace(Strategy):
    """``anders@example.dk`` -> ``<EMAIL_ADDRESS>``."""

    name = "replace"

    def value(self, value: str) -> str:
        return tag(self.context.entity)
