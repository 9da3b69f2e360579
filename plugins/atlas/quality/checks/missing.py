"""Completeness: required columns have no NULLs."""

from __future__ import annotations

from collections.abc import Iterator

from atlas.quality.checks.base import CheckContext, SodaCheck


class RequiredNotMissing:
    def checks(self, ctx: CheckContext) -> Iterator[SodaCheck]:
        for col in ctx.columns:
            if col.required and not ctx.can_be_null(col.name):
                yield SodaCheck(
                    f"missing_count({col.name}) = 0", f"{col.name}_not_missing", "completeness", "fail",
                    column=col.name,
                )
