"""Build ``silver.<table>`` for one logical date in one transaction.

bronze slice → validate/normalize → protect PII → COPY into a staging table → dedupe on the
primary key → merge (the date's previous slice replaced, older versions of the same keys
replaced, newer ones kept) → reconcile counts → leak guard → commit. Rows breaking rules go to
``quarantine.<table>`` (protected the same way) in the same transaction.

The leak guard (optional, see :class:`atlas.pii.leaks.SliceLeakGuard`) sees every chunk's raw
rows and their protected output as they are produced, and runs before the commit: when it
fires, the transaction is rolled back and readers keep the previous silver and quarantine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

from atlas.config import TableSpec
from atlas.errors import AtlasReconciliationError
from atlas.silver.row_rules import apply_row_rules
from atlas.silver.validate import validate
from atlas.warehouse.bulk_copy import copy_columns, quote_ident
from atlas.warehouse.tables import SILVER_META, ensure_tables, silver_ddl, silver_types

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
CHUNK_ROWS = 20_000
Protect = Callable[["pd.DataFrame"], "pd.DataFrame"]


class LeakGuard(Protocol):
    """What ``build_silver`` tells a leak guard (:class:`atlas.pii.leaks.SliceLeakGuard`)."""

    def observe_raw(self, frame: pd.DataFrame, unchanged_from: pd.DataFrame | None = None) -> None: ...

    def observe_output(self, target: str, frame: pd.DataFrame, columns: Any) -> None: ...

    def raise_for_leaks(self) -> None: ...


@dataclass(frozen=True)
class SilverResult:
    table: str
    logical_date: str
    bronze_rows: int
    silver_rows: int
    quarantined_rows: int
    duplicates_removed: int
    superseded_rows: int
    reasons: dict[str, int]
    rule_violations: dict[str, int]

    def summary(self) -> dict[str, Any]:
        return asdict(self)


def _read_bronze(conn: Any, spec: TableSpec, ds: str, chunk_rows: int) -> Any:
    """Yield DataFrames of the date's bronze rows (server-side cursor: bounded memory)."""
    import pandas as pd

    columns = [*spec.table_schema.column_names, "_atlas_source_file", "_atlas_row_number"]
    select = ", ".join(quote_ident(c) for c in columns)
    with conn.cursor(name=f"atlas_bronze_{spec.table}") as cur:
        cur.itersize = chunk_rows
        cur.execute(f"SELECT {select} FROM bronze.{spec.table} WHERE _atlas_logical_date = %s "
                    "ORDER BY _atlas_source_file, _atlas_row_number", (ds,))
        while rows := cur.fetchmany(chunk_rows):
            yield pd.DataFrame(rows, columns=columns, dtype=object)


def _frame_columns(frame: pd.DataFrame, columns: list[str],
                   constants: dict[str, object] | None = None) -> list[list[object]]:
    """The values of ``columns``, one list per column, missing ones (None, NaN, NA) as None;
    a column named in ``constants`` holds that value in every row."""
    out = []
    for name in columns:
        if constants and name in constants:
            out.append([constants[name]] * len(frame))
            continue
        values = frame[name]
        cells = values.astype(object).tolist()
        missing = values.isna().to_numpy()
        if missing.any():
            for i in missing.nonzero()[0].tolist():
                cells[i] = None
        out.append(cells)
    return out


def _stage_chunk(cur: Any, spec: TableSpec, stage: str, frame: pd.DataFrame, protect: Protect,
                 run_id: str, ds: str, reasons: dict[str, int], guard: LeakGuard | None) -> tuple[int, int]:
    columns = list(spec.table_schema.column_names)
    checked = validate(frame, spec)
    valid = checked.valid.copy()
    if guard is not None:  # raw values as received, and normalized (E.164, ...) where that differs
        guard.observe_raw(frame)
        guard.observe_raw(checked.valid, unchanged_from=frame)
    valid[columns] = protect(valid[columns])
    if guard is not None:
        text = [c for c, sql_type in silver_types(spec).items() if sql_type == "text"]
        guard.observe_output(f"silver.{spec.table}", valid, text)
    run = {"_atlas_run_id": run_id, "_atlas_logical_date": ds}
    silver_cols = [*columns, "_atlas_run_id", "_atlas_logical_date", "_atlas_source_file", "_atlas_row_number"]
    staged = copy_columns(cur, stage, silver_cols, _frame_columns(valid, silver_cols, run))

    rejected = checked.rejected.copy()
    if rejected.empty:
        return staged, 0
    rejected[columns] = protect(rejected[columns])
    if guard is not None:
        guard.observe_output(f"quarantine.{spec.table}", rejected, columns)
    for reason, count in rejected["_atlas_reason"].value_counts().items():
        reasons[str(reason)] = reasons.get(str(reason), 0) + int(count)
    q_cols = [*columns, "_atlas_stage", "_atlas_rule", "_atlas_reason", "_atlas_run_id",
              "_atlas_logical_date", "_atlas_source_file", "_atlas_row_number"]
    quarantined = copy_columns(cur, f"quarantine.{spec.table}", q_cols,
                               _frame_columns(rejected, q_cols, {**run, "_atlas_stage": "silver"}))
    return staged, quarantined


def _merge(cur: Any, spec: TableSpec, stage: str, ds: str) -> tuple[int, int, int]:
    """Dedupe the stage and merge it into silver; returns (inserted, duplicates, superseded)."""
    key = ", ".join(quote_ident(k) for k in spec.table_schema.primary_key)
    match = " AND ".join(f"s.{quote_ident(k)} = d.{quote_ident(k)}" for k in spec.table_schema.primary_key)
    target = f"silver.{spec.table}"
    cur.execute(f"SELECT count(*) FROM {stage}")
    staged = cur.fetchone()[0]
    cur.execute(f"CREATE TEMP TABLE atlas_dedup ON COMMIT DROP AS SELECT DISTINCT ON ({key}) * "
                f"FROM {stage} ORDER BY {key}, _atlas_source_file DESC, _atlas_row_number DESC")
    cur.execute("ANALYZE atlas_dedup")  # fresh statistics for the key joins below
    cur.execute("SELECT count(*) FROM atlas_dedup")
    duplicates = staged - cur.fetchone()[0]
    cur.execute(f"DELETE FROM {target} WHERE _atlas_logical_date = %s", (ds,))
    cur.execute(f"DELETE FROM atlas_dedup d USING {target} s WHERE {match} AND s._atlas_logical_date > %s",
                (ds,))
    superseded = cur.rowcount
    cur.execute(f"DELETE FROM {target} s USING atlas_dedup d WHERE {match}")
    columns = ", ".join(quote_ident(c) for c in [*spec.table_schema.column_names, *(n for n, _ in SILVER_META)])
    cur.execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM atlas_dedup")
    inserted = cur.rowcount
    cur.execute(f"DROP TABLE {stage}")
    cur.execute(f"ANALYZE {target}")  # fresh statistics for the checks and joins that follow
    return inserted, duplicates, superseded


def _record_metrics(cur: Any, result: SilverResult, run_id: str) -> None:
    metrics = {k: v for k, v in result.summary().items() if isinstance(v, int)}
    metrics.update({f"rule_violations:{name}": count for name, count in result.rule_violations.items()})
    cur.execute("DELETE FROM atlas_meta.run_metrics WHERE table_name = %s AND stage = 'silver' "
                "AND logical_date = %s", (result.table, result.logical_date))
    for metric, value in metrics.items():
        cur.execute("INSERT INTO atlas_meta.run_metrics (table_name, stage, metric, value, run_id, "
                    "logical_date) VALUES (%s, 'silver', %s, %s, %s, %s)",
                    (result.table, metric, value, run_id, result.logical_date))


def build_silver(conn: Any, spec: TableSpec, protect: Protect, run_id: str, ds: str,
                 chunk_rows: int = CHUNK_ROWS, *, guard: LeakGuard | None = None) -> SilverResult:
    """Replace the logical date's silver slice; raises AtlasReconciliationError if counts disagree.

    With a ``guard``, every chunk's raw rows and protected output go through it and it runs
    before the commit: a leak rolls everything back (AtlasPiiLeakError, previous state kept).
    """
    stage = f"silver.{quote_ident(spec.table + '__stage')}"
    reasons: dict[str, int] = {}
    with conn.cursor() as cur:
        ensure_tables(cur, spec)
        conn.commit()
        try:
            result = _build(conn, cur, spec, stage, protect, run_id, ds, chunk_rows, guard, reasons)
        except BaseException:
            conn.rollback()
            raise
    conn.commit()
    log.info("silver.%s %s: %s", spec.table, ds, result.summary())
    return result


def _build(conn: Any, cur: Any, spec: TableSpec, stage: str, protect: Protect, run_id: str, ds: str,
           chunk_rows: int, guard: LeakGuard | None, reasons: dict[str, int]) -> SilverResult:
    cur.execute(f"DROP TABLE IF EXISTS {stage}")
    cur.execute(silver_ddl(spec, qualified=stage, with_key=False).replace(
        "CREATE TABLE", "CREATE UNLOGGED TABLE", 1))
    cur.execute(f"DELETE FROM quarantine.{spec.table} WHERE _atlas_logical_date = %s "
                "AND _atlas_stage = 'silver'", (ds,))
    quarantined = 0
    for frame in _read_bronze(conn, spec, ds, chunk_rows):
        _, rejected = _stage_chunk(cur, spec, stage, frame, protect, run_id, ds, reasons, guard)
        quarantined += rejected
    cur.execute(f"ANALYZE {stage}")  # just loaded: row rules and the dedupe plan on real statistics
    outcomes, dropped = apply_row_rules(cur, spec, stage)
    for reason, count in dropped.items():
        reasons[reason] = reasons.get(reason, 0) + count
    quarantined += sum(dropped.values())
    inserted, duplicates, superseded = _merge(cur, spec, stage, ds)
    cur.execute(f"SELECT count(*) FROM bronze.{spec.table} WHERE _atlas_logical_date = %s", (ds,))
    bronze_rows = cur.fetchone()[0]
    result = SilverResult(spec.table, ds, bronze_rows, inserted, quarantined, duplicates, superseded,
                          dict(sorted(reasons.items())), {o.name: o.violations for o in outcomes})
    accounted = inserted + quarantined + duplicates + superseded
    if accounted != bronze_rows:
        raise AtlasReconciliationError(
            f"{spec.table} {ds}: bronze has {bronze_rows} rows but silver {inserted} + quarantined "
            f"{quarantined} + duplicates {duplicates} + superseded {superseded} = {accounted}")
    if guard is not None:
        guard.raise_for_leaks()  # before the commit that would publish the slice
    _record_metrics(cur, result, run_id)
    return result
