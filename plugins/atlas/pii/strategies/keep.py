"""keep: the value stays as it is (an explicit, audited decision in the table config)."""

from __future__ import annotations

from collections.abc import Sequence

from atlas.pii.strategies.base import Strategy


class Keep(Strategy):
    name = "keep"

    def value(self, value: str) -> str:
        return value

    def column(self, values: Sequence[str | None]) -> list[str | None]:
        return list(values)

    def span(self, text: str, entity: str) -> str:
        return text
