"""Uniqueness: the primary key has no duplicates."""

from __future__ import annotations

from collections.abc import Iterator

from atlas.quality.checks.base import CheckContext, SodaCheck


class PrimaryKeyUnique:
    def checks(self, ctx: CheckContext) -> Iterator[SodaCheck]:
        key = ctx.spec.table_schema.primary_key
        if any(ctx.can_be_null(c) for c in key):
            return
        yield SodaCheck(
            f"duplicate_count({', '.join(key)}) = 0", f"{'_'.join(key)}_unique", "uniqueness", "fail",
            column=key[0] if len(key) == 1 else None,
        )
