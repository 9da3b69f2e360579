"""Consistency: the layer's table has the configured columns (and, in silver, their types)."""

from __future__ import annotations

from collections.abc import Iterator

from atlas.quality.checks.base import BRONZE_META, SILVER_META, CheckContext, SodaCheck


class ColumnsPresent:
    """Every configured column and every Atlas metadata column of the layer exists."""

    def checks(self, ctx: CheckContext) -> Iterator[SodaCheck]:
        meta = BRONZE_META if ctx.layer == "bronze" else SILVER_META
        required = [c.name for c in ctx.columns] + list(meta)
        yield SodaCheck(
            "schema", "schema_columns_present", "consistency", "fail",
            threshold="no missing columns",
            config={"fail": {"when required column missing": required}}, whole_table=True,
        )


class ColumnTypes:
    """Silver columns have their configured SQL types (text where a PII strategy rewrote them)."""

    def checks(self, ctx: CheckContext) -> Iterator[SodaCheck]:
        types = {c.name: ctx.silver_type(c) for c in ctx.columns}
        yield SodaCheck(
            "schema", "schema_column_types", "consistency", "fail",
            threshold="no type mismatches",
            config={"fail": {"when wrong column type": types}}, whole_table=True,
        )
