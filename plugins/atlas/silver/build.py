"""Build ``silver.<table>`` for one logical date: partitions staged apart, published at once.

The date's bronze slice is cut into row ranges in the order bronze keeps it
(``_atlas_source_file, _atlas_row_number``: :func:`plan_partitions`). Each partition is staged
on its own (:func:`stage_partition`, one transaction, repeatable: its staging tables are dropped
and recreated): bronze range → validate/normalize → protect PII → COPY into the partition's
staging tables (silver rows, quarantined rows, leak-guard fingerprints). One transaction then
publishes them all (:func:`publish_partitions`): quarantined rows moved in → row rules →
dedupe on the primary key → merge (the date's previous slice replaced, older versions of the
same keys replaced, newer ones kept) → reconcile with the bronze count → leak guard → metrics →
staging dropped → commit. Readers never see part of a slice, and a guard that fires leaves the
previous silver and quarantine. :func:`build_silver` is the one-partition case in one process;
the table DAGs run plan, stage (one mapped task per partition) and publish as separate tasks.

The leak guard sees every chunk's raw rows and protected output as they are produced: an
in-process :class:`atlas.pii.leaks.SliceLeakGuard`, or, across tasks, fingerprints stored per
partition (:mod:`atlas.silver.staged_guard`) and matched by the publishing task.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

from atlas.config import TableSpec
from atlas.errors import AtlasReconciliationError
from atlas.schema import QUARANTINE_META, names
from atlas.silver.row_rules import apply_row_rules
from atlas.silver.staged_guard import StagedLeakRecorder
from atlas.silver.validate import validate
from atlas.warehouse.bulk_copy import copy_columns, quote_ident
from atlas.warehouse.tables import SILVER_META, ensure_tables, silver_ddl, silver_types

if TYPE_CHECKING:
    import pandas as pd
    from psycopg2.extensions import connection as PgConnection
    from psycopg2.extensions import cursor as PgCursor

log = logging.getLogger(__name__)
CHUNK_ROWS = 20_000
STAGE_SCHEMA = "atlas_stage"  # per-partition staging tables between the stage and publish tasks
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


@dataclass(frozen=True)
class Partition:
    """Rows of a date's bronze slice from ``lower`` (inclusive) to ``upper`` (exclusive), both
    ``(_atlas_source_file, _atlas_row_number)`` keys; None = from the start / to the end.
    ``rows``: how many the plan counted (-1: not counted)."""

    index: int
    rows: int = -1
    lower: tuple[str, int] | None = None
    upper: tuple[str, int] | None = None

    def as_dict(self) -> dict[str, Any]:
        """For XCom: the partition's bounds name a landed file and a row number, never a value."""
        return {"index": self.index, "rows": self.rows,
                "lower": list(self.lower) if self.lower else None, "upper": list(self.upper) if self.upper else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Partition:
        def key(bound: Any) -> tuple[str, int] | None:
            return (str(bound[0]), int(bound[1])) if bound else None

        return cls(int(data["index"]), int(data.get("rows", -1)), key(data.get("lower")), key(data.get("upper")))


@dataclass(frozen=True)
class Staging:
    """The staging tables of partition ``index`` of ``table``'s silver build for ``ds``."""

    table: str
    ds: str
    index: int

    @staticmethod
    def prefix(table: str, ds: str) -> str:
        base = table if len(table) <= 40 else f"{table[:31]}_{hashlib.sha256(table.encode()).hexdigest()[:8]}"
        return f"{base}__{ds.replace('-', '')}_"

    def _name(self, kind: str) -> str:
        return f"{STAGE_SCHEMA}.{quote_ident(f'{self.prefix(self.table, self.ds)}{kind}{self.index}')}"

    @property
    def rows(self) -> str:
        return self._name("p")

    @property
    def quarantine(self) -> str:
        return self._name("q")

    @property
    def guard(self) -> str:
        return self._name("g")

    @property
    def all(self) -> tuple[str, str, str]:
        return self.rows, self.quarantine, self.guard


def drop_staging(conn: PgConnection, table: str, ds: str) -> int:
    """Drop every staging table of ``table``'s build for ``ds`` (earlier runs included); not committed."""
    with conn.cursor() as cur:
        cur.execute("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = %s AND starts_with(tablename, %s)",
                    (STAGE_SCHEMA, Staging.prefix(table, ds)))
        names = [f"{STAGE_SCHEMA}.{name}" for (name,) in cur.fetchall()]
        if names:
            cur.execute(f"DROP TABLE IF EXISTS {', '.join(names)} CASCADE")
    return len(names)


def plan_partitions(conn: PgConnection, spec: TableSpec, ds: str) -> list[Partition]:
    """Cut the date's bronze slice into at most ``spec.silver.max_partitions`` row ranges of about
    ``spec.silver.partition_rows`` rows (one when the slice is smaller), and drop the staging
    tables of earlier builds of the date. One pass over the slice's index, in its order."""
    with conn.cursor() as cur:
        ensure_tables(cur, spec)
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {STAGE_SCHEMA}")
        drop_staging(conn, spec.table, ds)
        cur.execute(f"SELECT count(*) FROM bronze.{spec.table} WHERE _atlas_logical_date = %s", (ds,))
        rows = int(cur.fetchone()[0])
        wanted = min(max(1, math.ceil(rows / spec.silver.partition_rows)), spec.silver.max_partitions)
        if wanted == 1:
            conn.commit()
            return [Partition(0, rows)]
        size = math.ceil(rows / wanted)
        # every size-th key in the slice's order (an index scan of the date's range, no sort)
        cur.execute(f"SELECT _atlas_source_file, _atlas_row_number FROM (SELECT _atlas_source_file, "
                    "_atlas_row_number, row_number() OVER (ORDER BY _atlas_source_file, _atlas_row_number) AS n "
                    f"FROM bronze.{spec.table} WHERE _atlas_logical_date = %s) s WHERE (n - 1) %% %s = 0 ORDER BY n",
                    (ds, size))
        starts = [(str(f), int(r)) for f, r in cur.fetchall()]
    conn.commit()
    bounds = [None, *starts[1:]], [*starts[1:], None]
    return [Partition(i, min(size, rows - i * size), lower, upper)
            for i, (lower, upper) in enumerate(zip(*bounds, strict=True))]


def _read_bronze(conn: PgConnection, spec: TableSpec, ds: str, chunk_rows: int,
                 partition: Partition | None = None) -> Any:
    """Yield DataFrames of the date's bronze rows in ``partition`` (default all), in the slice's
    order (server-side cursor over the slice's index: bounded memory)."""
    import pandas as pd

    columns = [*spec.table_schema.column_names, "_atlas_source_file", "_atlas_row_number"]
    select = ", ".join(quote_ident(c) for c in columns)
    where, params = "_atlas_logical_date = %s", [ds]
    if partition is not None and partition.lower:
        where += " AND (_atlas_source_file, _atlas_row_number) >= (%s, %s)"
        params += partition.lower
    if partition is not None and partition.upper:
        where += " AND (_atlas_source_file, _atlas_row_number) < (%s, %s)"
        params += partition.upper
    with conn.cursor(name=f"atlas_bronze_{spec.table}") as cur:
        cur.itersize = chunk_rows
        cur.execute(f"SELECT {select} FROM bronze.{spec.table} WHERE {where} "
                    "ORDER BY _atlas_source_file, _atlas_row_number", params)
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


def quarantine_columns(spec: TableSpec) -> list[str]:
    """The quarantine columns a silver build writes."""
    return [*spec.table_schema.column_names, *names(QUARANTINE_META, written=True)]


def _stage_chunk(cur: PgCursor, spec: TableSpec, staging: Staging, frame: pd.DataFrame, protect: Protect,
                 run_id: str, guard: LeakGuard | None) -> tuple[int, int]:
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
    run = {"_atlas_run_id": run_id, "_atlas_logical_date": staging.ds}
    silver_cols = [*columns, *names(SILVER_META, written=True)]
    staged = copy_columns(cur, staging.rows, silver_cols, _frame_columns(valid, silver_cols, run))

    rejected = checked.rejected.copy()
    if rejected.empty:
        return staged, 0
    rejected[columns] = protect(rejected[columns])
    if guard is not None:
        guard.observe_output(f"quarantine.{spec.table}", rejected, columns)
    q_cols = quarantine_columns(spec)
    quarantined = copy_columns(cur, staging.quarantine, q_cols,
                               _frame_columns(rejected, q_cols, {**run, "_atlas_stage": "silver"}))
    return staged, quarantined


def _merge(cur: PgCursor, spec: TableSpec, stage: str, ds: str) -> tuple[int, int, int]:
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
    cur.execute(f"ANALYZE {target}")  # fresh statistics for the checks and joins that follow
    return inserted, duplicates, superseded


def _record_metrics(cur: PgCursor, result: SilverResult, run_id: str) -> None:
    metrics = {k: v for k, v in result.summary().items() if isinstance(v, int)}
    metrics.update({f"rule_violations:{name}": count for name, count in result.rule_violations.items()})
    cur.execute("DELETE FROM atlas_meta.run_metrics WHERE table_name = %s AND stage = 'silver' "
                "AND logical_date = %s", (result.table, result.logical_date))
    for metric, value in metrics.items():
        cur.execute("INSERT INTO atlas_meta.run_metrics (table_name, stage, metric, value, run_id, "
                    "logical_date) VALUES (%s, 'silver', %s, %s, %s, %s)",
                    (result.table, metric, value, run_id, result.logical_date))


@dataclass(frozen=True)
class StageResult:
    """One staged partition: rows staged for silver and rows quarantined by validation."""

    index: int
    staged_rows: int
    quarantined_rows: int

    def summary(self) -> dict[str, Any]:
        return asdict(self)


def stage_partition(conn: PgConnection, spec: TableSpec, protect: Protect, run_id: str, ds: str, partition: Partition,
                    chunk_rows: int = CHUNK_ROWS, *, guard: LeakGuard | None = None) -> StageResult:
    """Validate and protect one partition into its own staging tables, in one transaction that
    first drops and recreates them: a retry replaces what an earlier try staged. Commits; silver
    and quarantine are not touched (that is :func:`publish_partitions`'s)."""
    staging = Staging(spec.table, ds, partition.index)
    staged = quarantined = 0
    with conn.cursor() as cur:
        try:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {STAGE_SCHEMA}")
            cur.execute(f"DROP TABLE IF EXISTS {', '.join(staging.all)}")
            cur.execute(silver_ddl(spec, qualified=staging.rows, with_key=False).replace(
                "CREATE TABLE", "CREATE UNLOGGED TABLE", 1))
            cur.execute(f"CREATE UNLOGGED TABLE {staging.quarantine} (LIKE quarantine.{spec.table} INCLUDING DEFAULTS)")
            cur.execute(StagedLeakRecorder.ddl(staging.guard))
            for frame in _read_bronze(conn, spec, ds, chunk_rows, partition):
                rows, rejected = _stage_chunk(cur, spec, staging, frame, protect, run_id, guard)
                staged, quarantined = staged + rows, quarantined + rejected
        except BaseException:
            conn.rollback()
            raise
    conn.commit()
    result = StageResult(partition.index, staged, quarantined)
    log.info("silver.%s %s partition %d: %s", spec.table, ds, partition.index, result.summary())
    return result


def build_silver(conn: PgConnection, spec: TableSpec, protect: Protect, run_id: str, ds: str,
                 chunk_rows: int = CHUNK_ROWS, *, guard: LeakGuard | None = None) -> SilverResult:
    """Replace the logical date's silver slice in one process: the whole slice as one partition,
    staged and published. Raises AtlasReconciliationError if counts disagree.

    With a ``guard``, every chunk's raw rows and protected output go through it and it runs
    before the commit: a leak rolls everything back (AtlasPiiLeakError, previous state kept).
    """
    with conn.cursor() as cur:
        ensure_tables(cur, spec)
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {STAGE_SCHEMA}")
        drop_staging(conn, spec.table, ds)
    conn.commit()
    stage_partition(conn, spec, protect, run_id, ds, Partition(0), chunk_rows, guard=guard)
    return publish_partitions(conn, spec, run_id, ds, 1, guard=guard)


def publish_partitions(conn: PgConnection, spec: TableSpec, run_id: str, ds: str, partitions: int,
                       *, guard: LeakGuard | None = None) -> SilverResult:
    """Publish the ``partitions`` staged partitions of ``ds`` in one transaction (see the module
    docstring); ``guard.raise_for_leaks()`` runs before the commit. On success the staging tables
    are gone; on a leak they are dropped after the rollback (they hold the leaked output); on any
    other failure they stay, so a retry of the publish alone can use them."""
    from atlas.errors import AtlasPiiLeakError

    with conn.cursor() as cur:
        ensure_tables(cur, spec)
        conn.commit()
        try:
            result = _publish(cur, spec, run_id, ds, [Staging(spec.table, ds, i) for i in range(partitions)], guard)
        except AtlasPiiLeakError:
            conn.rollback()
            drop_staging(conn, spec.table, ds)
            conn.commit()
            raise
        except BaseException:
            conn.rollback()
            raise
    conn.commit()
    log.info("silver.%s %s: %s", spec.table, ds, result.summary())
    return result


def _gather(cur: PgCursor, spec: TableSpec, parts: list[Staging]) -> str:
    """The staged silver rows of every partition as one relation: the partition's own table, or
    a parent table the partitions' tables join as inheritance children (nothing is copied)."""
    missing = []
    for part in parts:
        for relation in part.all:
            cur.execute("SELECT to_regclass(%s)", (relation,))
            if cur.fetchone()[0] is None:
                missing.append(part.index)
                break
    if missing:
        raise AtlasReconciliationError(
            f"{spec.table} {parts[0].ds}: partition(s) {sorted(set(missing))} of {len(parts)} are not staged; "
            "run the silver build's stage tasks for the date again")
    if len(parts) == 1:
        return parts[0].rows
    parent = f"{STAGE_SCHEMA}.{quote_ident(Staging.prefix(spec.table, parts[0].ds) + 'all')}"
    cur.execute(f"DROP TABLE IF EXISTS {parent}")
    cur.execute(silver_ddl(spec, qualified=parent, with_key=False).replace("CREATE TABLE", "CREATE UNLOGGED TABLE", 1))
    for part in parts:
        cur.execute(f"ALTER TABLE {part.rows} INHERIT {parent}")
    return parent


def _move_quarantine(cur: PgCursor, spec: TableSpec, parts: list[Staging], reasons: dict[str, int]) -> int:
    """Rows rejected by validation, from the partitions' staging into ``quarantine.<table>``."""
    listed = ", ".join(quote_ident(c) for c in quarantine_columns(spec))
    moved = 0
    for part in parts:
        cur.execute(f"SELECT _atlas_reason, count(*) FROM {part.quarantine} GROUP BY 1")
        for reason, count in cur.fetchall():
            reasons[str(reason)] = reasons.get(str(reason), 0) + int(count)
        cur.execute(f"INSERT INTO quarantine.{spec.table} ({listed}) SELECT {listed} FROM {part.quarantine}")
        moved += cur.rowcount
    return moved


def _publish(cur: PgCursor, spec: TableSpec, run_id: str, ds: str, parts: list[Staging],
             guard: LeakGuard | None) -> SilverResult:
    reasons: dict[str, int] = {}
    stage = _gather(cur, spec, parts)
    cur.execute(f"DELETE FROM quarantine.{spec.table} WHERE _atlas_logical_date = %s "
                "AND _atlas_stage = 'silver'", (ds,))
    quarantined = _move_quarantine(cur, spec, parts, reasons)
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
    cur.execute(f"DROP TABLE {', '.join(r for part in parts for r in part.all)}"
                + ("" if len(parts) == 1 else f", {stage}"))
    return result
