"""Completeness: the day's load is not empty."""

from __future__ import annotations

from collections.abc import Iterator

from atlas.quality.checks.base import CheckContext, SodaCheck


class RowCount:
    def checks(self, ctx: CheckContext) -> Iterator[SodaCheck]:
        minimum = ctx.spec.quality.min_row_count
        if minimum > 0:
            yield SodaCheck(f"row_count >= {minimum}", "row_count", "completeness", "fail", f">= {minimum}")
