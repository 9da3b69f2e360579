"""keep: the value stays as it is (an explicit, audited decision in the table config)."""

from __future__ import annotations

from collections.abc import Sequence

from presidio_anonymizer.operators import Keep as KeepOperator

from atlas.pii.strategies.base import Strategy


class Keep(Strategy):
    name = "keep"
    operator_class = KeepOperator

    def column(self, values: Sequence[str | None]) -> list[str | None]:
        return list(values)
