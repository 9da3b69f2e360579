"""Timeliness: the newest value of the freshness column is recent at the end of the logical day."""

from __future__ import annotations

from collections.abc import Iterator

from atlas.quality.checks.base import CheckContext, SodaCheck


class Freshness:
    def checks(self, ctx: CheckContext) -> Iterator[SodaCheck]:
        name = ctx.spec.table_schema.freshness_column
        if not name or not ctx.keeps_values(name):
            return
        if ctx.spec.table_schema.column(name).type not in ("date", "timestamp"):
            return
        max_age = ctx.spec.quality.freshness_max_age
        yield SodaCheck(
            f"freshness({name}) < {max_age}", f"{name}_fresh", "timeliness", ctx.spec.quality.freshness_severity,
            column=name,
        )
