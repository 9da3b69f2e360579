"""redact: the value becomes NULL; in free text the span is removed."""

from __future__ import annotations

from atlas.pii.strategies.base import Strategy


class Redact(Strategy):
    name = "redact"

    def value(self, value: str) -> None:
        return None

    def span(self, text: str, entity: str) -> str:
        return ""
