"""Validity: columns with a configured pattern match it."""

from __future__ import annotations

from collections.abc import Iterator

from atlas.quality.checks.base import CheckContext, SodaCheck


class Pattern:
    def checks(self, ctx: CheckContext) -> Iterator[SodaCheck]:
        for col in ctx.columns:
            if col.pattern and ctx.keeps_values(col.name):
                yield SodaCheck(
                    f"invalid_count({col.name}) = 0", f"{col.name}_matches_pattern", "validity", "fail",
                    column=col.name, config={"valid regex": col.pattern},
                )
