"""``make demo``: sample data → both table DAGs run end to end through Airflow → what their asset
events trigger → a summary.

The table DAGs run with ``airflow dags test``. A cross-table model's DAG (``atlas_gold_customer_360``)
is unpaused first, so Airflow queues the date's partition as the tables' silver asset events
arrive; once every input is in, a local scheduler (``atlas.asset_runs``) creates and runs the
asset-triggered run for that date, exactly as in production. See docs/gold_and_ai_ready.md.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from atlas import asset_runs, runtime_env, settings

TABLE_ORDER = ("customers", "orders")


def _airflow_db() -> None:
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


FINISHED = re.compile(r"DagRun Finished: dag_id=(\S+?), .*?state=(\w+)")
TASK_END = re.compile(r"\[DAG TEST\] end task task_id=(\w+)")
TASK_STATE = re.compile(r"Task instance state updated .*?new_state=(\w+)")


def run_dag(dag_id: str, ds: str, log_dir: Path) -> tuple[str, Path]:
    """Run one DAG for the logical date with ``airflow dags test``; its task logs go to a file.

    Returns the run's final state and the log file.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"{dag_id}_{ds}.log"
    with log_file.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "airflow", "dags", "test", dag_id, ds],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        state, task_state = "failed", "done"
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            if match := TASK_STATE.search(line):
                task_state = match.group(1)
            if match := TASK_END.search(line):
                print(f"  {dag_id}: {match.group(1)} {task_state}", flush=True)
                task_state = "done"
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
    cross_table = _cross_table_dags()
    print(f"registering the DAGs; unpausing {', '.join(cross_table)} (asset events queue its dates)", flush=True)
    asset_runs.unpause(list(cross_table))
    earlier = {r.run_id for r in asset_runs.partition_runs(list(cross_table), args.ds)}  # a rerun of the same date
    states = {}
    for table in TABLE_ORDER:
        t0 = time.monotonic()
        states[f"atlas_{table}"], log_file = run_dag(f"atlas_{table}", args.ds, settings.atlas_home() / "logs")
        print(f"atlas_{table}: {states[f'atlas_{table}']} in {time.monotonic() - t0:.1f} s (task logs: {log_file})")
    states.update(_run_triggered(cross_table, args.ds, earlier))
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


def _cross_table_dags() -> dict[str, tuple[str, ...]]:
    """The cross-table model DAGs fed only by the demo's tables, with their inputs."""
    from atlas.config import load_valid_specs
    from atlas.gold_plan import plan_gold

    plan = plan_gold(load_valid_specs(settings.tables_dir()))
    return {m.dag_id: m.tables.inputs for m in plan.cross_table.values()
            if set(m.tables.silver_tables) <= set(TABLE_ORDER)}


def _run_triggered(inputs: dict[str, tuple[str, ...]], ds: str, earlier: set[str]) -> dict[str, str]:
    """Let Airflow's scheduler run what the table DAGs' asset events queued for ``ds``."""
    pending = asset_runs.pending_partitions(list(inputs), ds)
    dag_ids = []
    for dag_id, needed in inputs.items():
        arrived = pending.get(dag_id, [])
        print(f"{dag_id}: partition {ds} queued by asset events; inputs in: {', '.join(arrived) or 'none'}")
        if set(arrived) >= set(needed):
            dag_ids.append(dag_id)
        else:
            print(f"{dag_id}: waits for {', '.join(sorted(set(needed) - set(arrived)))}; not run")
    if not dag_ids:
        return dict.fromkeys(inputs, "not triggered")
    t0 = time.monotonic()
    print("starting Airflow's scheduler to run the asset-triggered runs ...", flush=True)
    with asset_runs.scheduler(settings.atlas_home() / "logs") as running:
        runs = asset_runs.wait_for_partition_runs(running, dag_ids, ds, exclude=earlier)
    print(f"scheduler stopped after {time.monotonic() - t0:.1f} s")
    for run in runs:
        print(f"{run.dag_id}: {run.state} ({run.run_id}, partition {ds}; task logs under "
              f"{settings.atlas_home() / 'airflow' / 'logs'})")
    return dict.fromkeys(inputs, "not triggered") | {run.dag_id: run.state for run in runs}


if __name__ == "__main__":
    sys.exit(main())
