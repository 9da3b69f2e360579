"""Validity: columns with allowed values hold only those values."""

from __future__ import annotations

from collections.abc import Iterator

from atlas.quality.checks.base import CheckContext, SodaCheck


class AllowedValues:
    def checks(self, ctx: CheckContext) -> Iterator[SodaCheck]:
        for col in ctx.columns:
            if col.allowed_values and ctx.keeps_values(col.name):
                yield SodaCheck(
                    f"invalid_count({col.name}) = 0", f"{col.name}_allowed_values", "validity", "fail",
                    column=col.name, config={"valid values": list(col.allowed_values)},
                )
