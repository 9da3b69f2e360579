"""Completeness for gold models: each model the table feeds is not empty."""

from __future__ import annotations

from collections.abc import Iterator

from atlas.quality.checks.base import CheckContext, SodaCheck


class GoldNotEmpty:
    def checks(self, ctx: CheckContext) -> Iterator[SodaCheck]:
        yield SodaCheck("row_count > 0", "row_count", "completeness", "fail", whole_table=True)
