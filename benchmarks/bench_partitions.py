"""Benchmark: the partitioned silver build on CeleryExecutor workers, 1 worker vs 2.

    .venv/bin/python benchmarks/bench_partitions.py                       # 1,000,000 orders
    .venv/bin/python benchmarks/bench_partitions.py --orders 200000 --partition-rows 50000

One ORDERS slice (no free text: the work is validation, pseudonyms, COPY and the merge) in its
own ATLAS_HOME (embedded PostgreSQL, landing area, lake) and a real Airflow with the
CeleryExecutor, as docker-compose.yaml runs it: api-server, scheduler, dag-processor and two
``airflow celery worker`` processes of concurrency 1 (broker and result backend: SQLite files
through kombu's SQLAlchemy transport, as tests/test_celery_executor.py, instead of Redis).

1. ``atlas_orders`` runs end to end once (it loads bronze and warms caches); its silver stage is
   timed too (2 workers, first build).
2. The silver task group (plan_silver → stage_silver per partition → build_silver) is cleared and
   rerun with both workers, then with one worker stopped. Wall time = first plan_silver start
   to build_silver end, as Airflow recorded it (scheduling and queueing included).
3. The naive way in the same run: the unpartitioned build (``build_silver``, the whole slice in
   one process, as ``atlas.reprocess`` runs it), without Airflow.

Prints the three times, the 1-vs-2 worker ratio and the per-partition stage times. The
machine's cores are shared: two workers help only as far as two cores are free.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT)]
DS = "2026-07-01"
DAG_ID = "atlas_orders"
SILVER_TASKS = ["plan_silver", "stage_silver", "build_silver"]
WORKERS = ("w1", "w2")


def worker(name: str) -> str:
    return f"celery worker --celery-hostname {name}@%h --concurrency 1"


def celery_env(airflow_home: Path, partition_rows: int) -> dict[str, str]:
    """The compose file's executor settings, with SQLite files in place of Redis and PostgreSQL."""
    airflow_home.mkdir(parents=True, exist_ok=True)
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": f"sqla+sqlite:///{airflow_home / 'celery-broker.db'}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+sqlite:///{airflow_home / 'celery-results.db'}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "ATLAS_TABLES_DIR": str(tables_with(partition_rows, airflow_home.parent / "tables")),
    }


def tables_with(partition_rows: int, folder: Path) -> Path:
    """A copy of include/tables with orders.yml's ``silver.partition_rows`` set."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "include" / "tables").iterdir():
        if path.is_file():
            (folder / path.name).write_bytes(path.read_bytes())
    orders = yaml.safe_load((folder / "orders.yml").read_text())
    orders.setdefault("silver", {})["partition_rows"] = partition_rows
    (folder / "orders.yml").write_text(yaml.safe_dump(orders, sort_keys=False))
    return folder


def generate(landing: Path, orders: int, seed: int) -> float:
    """Land the extracts for ``DS`` unless this size and seed are already there; seconds spent."""
    from atlas import sample_data

    marker = landing / f".bench-partitions-{DS}.json"
    wanted = {"orders": orders, "seed": seed}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return 0.0
    started = time.monotonic()
    sample_data.generate(landing, DS, customers=min(100_000, max(1_000, orders // 10)), orders=orders, seed=seed)
    marker.write_text(json.dumps(wanted))
    return time.monotonic() - started


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def silver_timing(api: Any, run_id: str) -> dict[str, Any]:
    """Wall time of the silver task group in a run, and each task's time, from Airflow's records."""
    body = api.json("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
    tis = [ti for ti in body["task_instances"] if ti["task_id"] in SILVER_TASKS]
    starts = [_time(ti["start_date"]) for ti in tis if ti["start_date"]]
    ends = [_time(ti["end_date"]) for ti in tis if ti["end_date"]]
    tasks = sorted(((ti["task_id"], ti["map_index"], ti["state"], ti.get("hostname") or "",
                     (_time(ti["end_date"]) - _time(ti["start_date"])).total_seconds()
                     if ti["start_date"] and ti["end_date"] else None) for ti in tis),
                   key=lambda t: (SILVER_TASKS.index(t[0]), t[1]))
    return {"wall": (max(ends) - min(starts)).total_seconds() if starts and ends else None, "tasks": tasks,
            "ok": all(ti["state"] == "success" for ti in tis)}


def run_silver_again(api: Any, airflow: Any, run_id: str, timeout: float) -> dict[str, Any]:
    """Clear the run's silver tasks (only them) and wait for the run to finish again."""
    from tests.helpers.airflow_server import wait_for_run

    api.json("POST", f"/api/v2/dags/{DAG_ID}/clearTaskInstances",
             json={"dry_run": False, "dag_run_id": run_id, "task_ids": SILVER_TASKS, "only_failed": False,
                   "include_downstream": False, "include_upstream": False, "reset_dag_runs": True})
    time.sleep(2)
    wait_for_run(api, DAG_ID, run_id, timeout=timeout, check=airflow.check_alive)
    return silver_timing(api, run_id)


def unpartitioned(dsn: str, run_id: str) -> float:
    """The whole slice in one process: ``build_silver`` as ``atlas.reprocess`` runs it."""
    from atlas import settings
    from atlas.config import load_table_spec
    from atlas.reprocess import reprocess
    from atlas.warehouse import connect

    spec = load_table_spec(settings.tables_dir() / "orders.yml")
    conn = connect(dsn)
    try:
        started = time.monotonic()
        reprocess(conn, spec, DS, run_id)
        return time.monotonic() - started
    finally:
        conn.close()


def show(label: str, timing: dict[str, Any]) -> None:
    wall = timing["wall"]
    print(f"\n{label}: silver wall {wall:.1f} s" + ("" if timing["ok"] else "  (NOT all tasks succeeded)"))
    for task_id, index, state, host, seconds in timing["tasks"]:
        name = task_id if index < 0 else f"{task_id}[{index}]"
        print(f"    {name:<18}{state:<10}{seconds if seconds is not None else float('nan'):>8.1f} s  {host}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--partition-rows", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for a run")
    parser.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "atlas-bench-partitions")
    args = parser.parse_args(argv)

    from tests.helpers.airflow_server import airflow_server, stop_all, wait_for_dag, wait_for_run, wait_until
    from tests.helpers.atlas_home import isolated_atlas_home

    os.environ["ATLAS_HOME"] = str(args.home)
    os.environ.setdefault("AIRFLOW_HOME", str(args.home / "airflow"))
    with isolated_atlas_home(args.home) as home:
        made = generate(home.landing, args.orders, args.seed)
        print(f"Atlas partitioned-silver benchmark in {args.home} ({os.cpu_count()} cores): {args.orders:,} orders, "
              f"partitions of {args.partition_rows:,} rows; sample data "
              + (f"{made:.1f} s" if made else "reused"), flush=True)
        airflow_home = args.home / "airflow"
        env = {**home.env, **celery_env(airflow_home, args.partition_rows)}
        os.environ["ATLAS_TABLES_DIR"] = env["ATLAS_TABLES_DIR"]
        components = tuple(worker(name) for name in WORKERS)
        with airflow_server(airflow_home, parallelism=4, extra_env=env, extra_components=components) as airflow:
            for component in components:
                wait_until(lambda c=component: re.search(r"celery@\S+ ready|\S+@\S+ ready",
                                                         airflow.log_tail(c, lines=200)),
                           180, f"{component} to be ready", check=airflow.check_alive)
            api = airflow.client()
            try:
                wait_for_dag(api, DAG_ID, timeout=300)
                trigger = api.json("POST", f"/api/v2/dags/{DAG_ID}/dagRuns",
                                   json={"logical_date": f"{DS}T00:00:00Z", "conf": {}})
                api.json("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False})
                run_id = trigger["dag_run_id"]
                started = time.monotonic()
                finished = wait_for_run(api, DAG_ID, run_id, timeout=args.timeout, check=airflow.check_alive)
                print(f"\n{DAG_ID} end to end: {finished['state']} in {time.monotonic() - started:.0f} s", flush=True)
                show("first build, 2 workers", first := silver_timing(api, run_id))
                show("rerun, 2 workers", two := run_silver_again(api, airflow, run_id, args.timeout))
                stop_all([airflow.processes.pop(components[1])])
                show("rerun, 1 worker", one := run_silver_again(api, airflow, run_id, args.timeout))
            finally:
                api.close()
        naive = unpartitioned(home.dsn, "bench-unpartitioned")
        print(f"\nunpartitioned build_silver in one process (no Airflow): {naive:.1f} s")
    print(f"\n{'silver build of ' + format(args.orders, ',') + ' orders':<52}{'seconds':>9}")
    print(f"{'partitioned, CeleryExecutor, 1 worker':<52}{one['wall']:>9.1f}")
    print(f"{'partitioned, CeleryExecutor, 2 workers':<52}{two['wall']:>9.1f}")
    print(f"{'partitioned, 2 workers (first build)':<52}{first['wall']:>9.1f}")
    print(f"{'unpartitioned, one process':<52}{naive:>9.1f}")
    print(f"1 worker / 2 workers: {one['wall'] / two['wall']:.2f}x")
    return 0 if finished["state"] == "success" and one["ok"] and two["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
