"""Benchmark: a real day at scale — N customers and M orders through both table DAGs end to end.

    make bench-scale                                  # 1,000,000 customers + 5,000,000 orders
    .venv/bin/python benchmarks/bench_scale.py --customers 100000 --orders 500000
    .venv/bin/python benchmarks/bench_scale.py --points 100000:500000,1000000:5000000

Runs in its own ATLAS_HOME (default ``$TMPDIR/atlas-bench-scale``: its own embedded PostgreSQL,
Airflow home, landing area and lake), generates the sample extracts (cached per size and seed),
then runs every table DAG for the logical date with ``airflow dags test``, and after them each
cross-table gold DAG (``atlas_gold_customer_360``) for the date (here by hand, to time its stages;
``make demo`` lets Airflow's scheduler start it from the asset events).
For every stage it prints wall time, rows/s and the peak RSS of the largest process of the task
(sampled twice a second over the Airflow process tree), and its ratio to the I/O floor measured
in the same run: COPY of the same files into the same PostgreSQL. With several points it prints
seconds per million rows per stage, which stay flat when cost grows linearly.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
DS = "2026-06-30"
TABLES = ("customers", "orders")
TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\w+)")
TASK_END = re.compile(r"\[DAG TEST\] end task task_id=(\w+)")
FINISHED = re.compile(r"DagRun Finished: dag_id=(\S+?), .*?state=(\w+)")


@dataclass
class Stage:
    dag_id: str
    task_id: str
    started: float
    ended: float | None = None
    peak_rss: int = 0  # bytes, largest single process of the Airflow tree while the stage ran

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started


@dataclass
class DagRun:
    dag_id: str
    state: str = "failed"
    seconds: float = 0.0
    stages: list[Stage] = field(default_factory=list)


class RssSampler(threading.Thread):
    """Samples the RSS of a process tree; charges the current stage with the largest process."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.stage: Stage | None = None
        self.peak = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        import psutil

        root = psutil.Process(self.pid)
        while not self.stopped.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                largest = max(p.memory_info().rss for p in procs)
            except psutil.Error:
                largest = 0
            self.peak = max(self.peak, largest)
            if self.stage is not None:
                self.stage.peak_rss = max(self.stage.peak_rss, largest)
            self.stopped.wait(self.interval)


def run_dag(dag_id: str, ds: str, log_dir: Path) -> DagRun:
    """``airflow dags test`` for one DAG, timing each task from the runner's own markers."""
    result = DagRun(dag_id)
    log_file = log_dir / f"{dag_id}_{ds}.log"
    started = time.monotonic()
    with log_file.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "airflow", "dags", "test", dag_id, ds],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sampler = RssSampler(process.pid)
        sampler.start()
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            if match := TASK_START.search(line):
                sampler.stage = Stage(dag_id, match.group(1), time.monotonic())
                result.stages.append(sampler.stage)
            elif (match := TASK_END.search(line)) and sampler.stage and sampler.stage.task_id == match.group(1):
                sampler.stage.ended = time.monotonic()
                print(f"    {dag_id}.{match.group(1)}: {sampler.stage.seconds:.1f} s", flush=True)
                sampler.stage = None
            elif (match := FINISHED.search(line)) and match.group(1) == dag_id:
                result.state = match.group(2)
        process.wait()
        sampler.stopped.set()
        sampler.join()
    result.seconds = time.monotonic() - started
    return result


def copy_floor(dsn: str, landing: Path, ds: str) -> dict[str, float]:
    """Seconds to COPY each table's landed CSV into an all-text table of the same PostgreSQL."""
    import psycopg2

    floors = {}
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE SCHEMA IF NOT EXISTS bench_floor")
            for table in TABLES:
                path = landing / table / ds / f"{table}.csv"
                header = path.open(encoding="utf-8").readline().strip().split(",")
                cur.execute(f"DROP TABLE IF EXISTS bench_floor.{table}")
                cur.execute(f"CREATE UNLOGGED TABLE bench_floor.{table} ("
                            + ", ".join(f'"{c}" text' for c in header) + ")")
                conn.commit()
                started = time.monotonic()
                with path.open(encoding="utf-8") as handle:
                    cur.copy_expert(f"COPY bench_floor.{table} FROM STDIN WITH (FORMAT csv, HEADER true)", handle)
                conn.commit()
                floors[table] = time.monotonic() - started
                cur.execute(f"DROP TABLE bench_floor.{table}")
                conn.commit()
    finally:
        conn.close()
    return floors


def hmac_floor(values: int = 1_000_000) -> float:
    """Seconds to HMAC-SHA256 ``values`` short strings in one process (the pseudonym floor)."""
    key = b"k" * 32
    started = time.monotonic()
    for i in range(values):
        hmac.new(key, f"C{i:07d}".encode(), hashlib.sha256).hexdigest()
    return time.monotonic() - started


def bronze_rows(dsn: str, ds: str) -> dict[str, int]:
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            counts = {}
            for table in TABLES:
                cur.execute(f"SELECT count(*) FROM bronze.{table} WHERE _atlas_logical_date = %s", (ds,))
                counts[table] = cur.fetchone()[0]
            return counts
    finally:
        conn.close()


@contextmanager
def bench_home(home: Path) -> Iterator[str]:
    """Environment for one benchmark home; yields the warehouse DSN."""
    os.environ["ATLAS_HOME"] = str(home)
    os.environ["AIRFLOW_HOME"] = str(home / "airflow")
    # Deployed Airflow imports from compiled bytecode; without it every task process compiles
    # Airflow, pandas and Presidio from source again (10-20 s per task on this machine).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    from atlas import runtime_env, settings
    from atlas.warehouse import connect, embedded, ensure_warehouse

    runtime_env.configure(home)
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dsn = embedded.ensure_running(settings.embedded_warehouse_dir())
    try:
        with connect(dsn) as conn:
            ensure_warehouse(conn)
        yield dsn
    finally:  # the warehouse this benchmark started stops with it (the data stays for a look)
        embedded.stop(settings.embedded_warehouse_dir())


def generate(landing: Path, customers: int, orders: int, seed: int) -> float:
    """Land the extracts for ``DS`` unless this size and seed are already there; seconds spent."""
    from atlas import sample_data

    marker = landing / f".bench-{DS}.json"
    wanted = {"customers": customers, "orders": orders, "seed": seed}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return 0.0
    started = time.monotonic()
    sample_data.generate(landing, DS, customers=customers, orders=orders, seed=seed)
    marker.write_text(json.dumps(wanted))
    return time.monotonic() - started


def reset_warehouse(dsn: str) -> None:
    """Drop every table layer so each point starts from an empty warehouse (a first day)."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        for schema in ("bronze", "silver", "gold", "ai_ready", "quarantine", "atlas_meta"):
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    conn.close()


def run_point(dsn: str, home: Path, customers: int, orders: int, seed: int) -> dict[str, object]:
    from atlas.warehouse import connect, ensure_warehouse

    landing = home / "landing"
    print(f"\n== {customers:,} customers + {orders:,} orders ==")
    made = generate(landing, customers, orders, seed)
    print(f"  sample data: {made:.1f} s" if made else "  sample data: reused")
    reset_warehouse(dsn)
    with connect(dsn) as conn:
        ensure_warehouse(conn)
    floors = copy_floor(dsn, landing, DS)
    print("  COPY floor: " + ", ".join(f"{t} {s:.1f} s" for t, s in floors.items()))
    log_dir = home / "logs"
    log_dir.mkdir(exist_ok=True)
    started = time.monotonic()
    runs = [run_dag(f"atlas_{table}", DS, log_dir) for table in TABLES]
    cross_table = cross_table_inputs()
    runs += [run_dag(dag_id, DS, log_dir) for dag_id in cross_table]
    total = time.monotonic() - started
    rows = bronze_rows(dsn, DS)
    for dag_id, tables in cross_table.items():  # a cross-table model reads every input's rows
        rows[dag_id.removeprefix("atlas_")] = sum(rows.get(t, 0) for t in tables)
    return {"customers": customers, "orders": orders, "floors": floors, "runs": runs, "total": total,
            "rows": rows}


def cross_table_inputs() -> dict[str, tuple[str, ...]]:
    """Each cross-table gold DAG fed only by the benchmarked tables, with its input tables."""
    from atlas import settings
    from atlas.config import load_valid_specs
    from atlas.gold_plan import plan_gold

    plan = plan_gold(load_valid_specs(settings.tables_dir()))
    return {m.dag_id: m.tables.silver_tables for m in plan.cross_table.values()
            if set(m.tables.silver_tables) <= set(TABLES)}


def report(point: dict[str, object]) -> None:
    runs: list[DagRun] = point["runs"]  # type: ignore[assignment]
    floors: dict[str, float] = point["floors"]  # type: ignore[assignment]
    rows: dict[str, int] = point["rows"]  # type: ignore[assignment]
    print(f"\n{'stage':<42}{'seconds':>9}{'rows/s':>11}{'peak RSS MB':>13}{'x floor':>9}")
    for run in runs:
        table = run.dag_id.removeprefix("atlas_")
        for stage in run.stages:
            n = rows.get(table, 0)
            rate = f"{n / stage.seconds:,.0f}" if stage.seconds > 0 and n else "-"
            ratio = f"{stage.seconds / floors[table]:.1f}" if table in floors and stage.task_id != "wait_for_source" \
                else "-"
            print(f"{run.dag_id + '.' + stage.task_id:<42}{stage.seconds:>9.1f}{rate:>11}"
                  f"{stage.peak_rss / 2**20:>13,.0f}{ratio:>9}")
        print(f"{run.dag_id + ' (' + run.state + ')':<42}{run.seconds:>9.1f}")
    peak = max((s.peak_rss for r in runs for s in r.stages), default=0)
    print(f"{'all DAGs':<42}{point['total']:>9.1f}{'':>11}{peak / 2**20:>13,.0f}")


def linearity(points: list[dict[str, object]]) -> None:
    """Seconds per million rows of each stage at every point (flat = linear)."""
    print("\nseconds per million rows of the table, by point:")
    header = "".join(f"{p['customers'] // 1000}K/{p['orders'] // 1000}K".rjust(14) for p in points)
    print(f"{'stage':<42}{header}")
    # one line per task: a mapped task's instances (stage_silver per partition) add up
    names = list(dict.fromkeys((r.dag_id, s.task_id) for r in points[0]["runs"]  # type: ignore[attr-defined]
                               for s in r.stages))
    for dag_id, task_id in names:
        cells = []
        for point in points:
            table = dag_id.removeprefix("atlas_")
            seconds = [s.seconds for r in point["runs"] for s in r.stages  # type: ignore[attr-defined]
                       if r.dag_id == dag_id and s.task_id == task_id]
            n = point["rows"].get(table, 0)  # type: ignore[attr-defined]
            cells.append(f"{sum(seconds) / n * 1e6:14.1f}" if seconds and n else " " * 14)
        print(f"{dag_id + '.' + task_id:<42}{''.join(cells)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=5_000_000)
    parser.add_argument("--points", default="", help="comma-separated CUSTOMERS:ORDERS sizes, run in order")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "atlas-bench-scale")
    args = parser.parse_args(argv)
    sizes = [tuple(int(n) for n in p.split(":")) for p in args.points.split(",") if p] or \
        [(args.customers, args.orders)]
    with bench_home(args.home) as dsn:
        print(f"Atlas scale benchmark in {args.home} ({os.cpu_count()} cores)")
        print(f"HMAC floor: {hmac_floor():.2f} s per 1M values")
        points = []
        for customers, orders in sizes:
            point = run_point(dsn, args.home, customers, orders, args.seed)
            report(point)
            points.append(point)
        if len(points) > 1:
            linearity(points)
    failed = [r.dag_id for p in points for r in p["runs"] if r.state != "success"]  # type: ignore[attr-defined]
    if failed:
        print(f"\nFAILED: {', '.join(failed)} (task logs in {args.home / 'logs'})")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
