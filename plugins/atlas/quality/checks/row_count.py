"""Completeness: the day's load is not empty.

Bronze counts the date's slice. Silver counts the date's slice plus its rows that a newer load
had already superseded (recorded by build_silver): a backfilled older extract whose rows are all
superseded passes, a date whose rows were all quarantined does not.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas.quality.checks.base import CheckContext, SodaCheck

SILVER_ROWS = """SELECT
  (SELECT count(*) FROM {table} WHERE _atlas_logical_date = '${{logical_date}}')
  + coalesce((SELECT value FROM atlas_meta.run_metrics WHERE table_name = '{name}' AND stage = 'silver'
              AND metric = 'superseded_rows' AND logical_date = '${{logical_date}}'), 0)"""


class RowCount:
    def checks(self, ctx: CheckContext) -> Iterator[SodaCheck]:
        minimum = ctx.spec.quality.min_row_count
        if minimum <= 0:
            return
        if ctx.layer != "silver":
            yield SodaCheck(f"row_count >= {minimum}", "row_count", "completeness", "fail")
            return
        query = SILVER_ROWS.format(table=ctx.spec.table, name=ctx.spec.table)  # the scan sets the schema
        yield SodaCheck(f"rows_loaded >= {minimum}", "row_count", "completeness", "fail",
                        config={"rows_loaded query": query}, whole_table=True)
