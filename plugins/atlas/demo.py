"""``make demo``: sample data → both table DAGs run end to end through Airflow → a summary."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from atlas import runtime_env, settings

TABLE_ORDER = ("customers", "orders")


def _airflow_db() -> None:
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


FINISHED = re.compile(r"DagRun Finished: dag_id=(\S+?), .*?state=(\w+)")
TASK_END = re.compile(r"\[DAG TEST\] end task task_id=(\w+)")


def run_dag(dag_id: str, ds: str, log_dir: Path) -> tuple[str, Path]:
    """Run one DAG for the logical date with ``airflow dags test``; its task logs go to a file.

    Returns the run's final state and the log file.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"{dag_id}_{ds}.log"
    with log_file.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "airflow", "dags", "test", dag_id, ds],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        state = "failed"
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            if match := TASK_END.search(line):
                print(f"  {dag_id}: {match.group(1)} done", flush=True)
            if (match := FINISHED.search(line)) and match.group(1) == dag_id:
                state = match.group(2)
        process.wait()
    return state, log_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run Atlas end to end on sample data")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--ds", default=(date.today() - timedelta(days=1)).isoformat())
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    started = time.monotonic()
    runtime_env.configure()

    from atlas import report, sample_data
    from atlas.warehouse import connect, embedded, ensure_warehouse

    print(f"Atlas demo: logical date {args.ds}, {args.customers:,} customers, {args.orders:,} orders")
    _airflow_db()
    dsn = embedded.ensure_running(settings.embedded_warehouse_dir())
    with connect(dsn) as conn:
        ensure_warehouse(conn)
    generated = sample_data.generate(settings.landing_url().removeprefix("file://"), args.ds,
                                     customers=args.customers, orders=args.orders, seed=args.seed)
    problems = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in generated.as_dict().items()
                         if not k.endswith("_rows"))
    print(f"sample data in {settings.landing_url()}: {generated.customer_rows:,} customer and "
          f"{generated.order_rows:,} order rows with deliberate problems: {problems}")
    states = {}
    for table in TABLE_ORDER:
        t0 = time.monotonic()
        states[table], log_file = run_dag(f"atlas_{table}", args.ds, settings.atlas_home() / "logs")
        print(f"atlas_{table}: {states[table]} in {time.monotonic() - t0:.1f} s (task logs: {log_file})")
    conn = connect(dsn)
    try:
        print()
        print(report.summary(conn, TABLE_ORDER, args.ds))
    finally:
        conn.close()
    lineage = settings.atlas_home() / "lineage" / "openlineage.jsonl"
    events = sum(1 for _ in lineage.open()) if lineage.exists() else 0
    print(f"\nLineage: {events} OpenLineage events in {lineage}")
    print(f"Lake: {settings.lake_url()}   Warehouse: {dsn}")
    print(f"Total time: {time.monotonic() - started:.1f} s")
    print("\nOpen the Airflow UI on this warehouse: make ui   (http://localhost:8080, user admin, "
          "password printed by make ui;\n  Atlas's page with these figures, charts and trends: "
          "http://localhost:8080/plugin/atlas)")
    return 0 if all(s == "success" for s in states.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
