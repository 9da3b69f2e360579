"""Accuracy: numeric columns stay within their configured min/max."""

from __future__ import annotations

from collections.abc import Iterator

from atlas.quality.checks.base import CheckContext, SodaCheck

NUMERIC = frozenset({"integer", "bigint", "numeric"})


class Range:
    def checks(self, ctx: CheckContext) -> Iterator[SodaCheck]:
        for col in ctx.columns:
            bounds = {k: v for k, v in (("valid min", col.min), ("valid max", col.max)) if v is not None}
            if bounds and col.type in NUMERIC and ctx.keeps_values(col.name):
                yield SodaCheck(
                    f"invalid_count({col.name}) = 0", f"{col.name}_in_range", "accuracy", "fail",
                    column=col.name, config=bounds,
                )
