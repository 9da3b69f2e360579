"""Cross-table gold on Airflow Assets, on a real Airflow (api-server, scheduler, dag-processor).

One date, two rounds on a fresh warehouse each: customers first then orders, and orders first
then customers. The table DAGs run with ``airflow dags test`` against the server's metadata DB
(as ``make demo`` does); the scheduler alone decides when ``atlas_gold_customer_360`` runs.
Asserted per round: after the first table nothing cross-table exists and the date's partition
waits with that one input; the second table's silver event makes the scheduler start exactly
one asset-triggered run for the date, which builds ``gold.customer_360`` and publishes one
version of ``customer_features``. Both rounds give the same rows and values. A run triggered
by hand for a date whose inputs never came fails before building anything.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from atlas import settings
from tests.helpers.airflow_server import AirflowServer, ApiClient, airflow_server, wait_for_dag, wait_until
from tests.helpers.atlas_home import AtlasHome, isolated_atlas_home

pytestmark = pytest.mark.slow

GOLD_DAG = "atlas_gold_customer_360"
DS = "2026-11-14"
MISSING_DS = "2026-11-15"  # no table delivered this date
CUSTOMERS, ORDERS = 150, 600
ROUNDS = {"customers_first": (("customers", "orders"), DS),
          "orders_first": (("orders", "customers"), f"{DS}T06:00:00+00:00")}  # same ds, other run ids


@pytest.fixture(scope="module")
def home() -> Iterator[AtlasHome]:
    with isolated_atlas_home(settings.atlas_home() / "assets") as atlas_home:
        yield atlas_home


@pytest.fixture(scope="module")
def airflow(home: AtlasHome) -> Iterator[AirflowServer]:
    with airflow_server(home.path / "airflow", extra_env=home.env) as server:
        yield server
    assert not server.session_processes(), "every process the server started has ended"


@pytest.fixture(scope="module")
def api(airflow: AirflowServer) -> Iterator[ApiClient]:
    """The gold DAG parsed and unpaused (partitions are only queued for unpaused consumers)."""
    client = airflow.client()
    wait_for_dag(client, GOLD_DAG, timeout=180)
    assert client.json("PATCH", f"/api/v2/dags/{GOLD_DAG}", json={"is_paused": False})["is_paused"] is False
    yield client
    client.close()


def _dags_test(airflow: AirflowServer, home: AtlasHome, table: str, logical_date: str) -> float:
    env = dict(os.environ, **home.env, AIRFLOW_HOME=str(airflow.airflow_home))
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", f"atlas_{table}", logical_date],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, f"atlas_{table} failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
    return time.monotonic() - started


def _gold_runs(api: ApiClient, run_type: str = "asset_triggered") -> list[dict[str, Any]]:
    runs = api.json("GET", f"/api/v2/dags/{GOLD_DAG}/dagRuns", params={"limit": 100})["dag_runs"]
    return [r for r in runs if r["run_type"] == run_type]


def _pending(airflow: AirflowServer, partition_key: str) -> list[list[str]]:
    """Assets logged for each not-yet-run partition ``partition_key`` of the gold DAG (metadata DB)."""
    db = sqlite3.connect(f"file:{airflow.airflow_home / 'airflow.db'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT r.id, a.name FROM asset_partition_dag_run r "
            "JOIN partitioned_asset_key_log l ON l.asset_partition_dag_run_id = r.id "
            "JOIN asset a ON a.id = l.asset_id "
            "WHERE r.target_dag_id = ? AND r.partition_key = ? AND r.created_dag_run_id IS NULL",
            (GOLD_DAG, partition_key)).fetchall()
    finally:
        db.close()
    by_run: dict[int, set[str]] = {}
    for run_id, asset in rows:
        by_run.setdefault(run_id, set()).add(asset)
    return [sorted(assets) for assets in by_run.values()]


def _scheduler_heartbeat(airflow: AirflowServer) -> str:
    import httpx

    health = httpx.get(f"{airflow.base_url}/api/v2/monitor/health", timeout=10).json()
    return health["scheduler"]["latest_scheduler_heartbeat"] or ""


def _let_scheduler_loop(airflow: AirflowServer, loops: int = 2) -> None:
    """Wait until the scheduler has heartbeated ``loops`` more times (it evaluates partitions each loop)."""
    for _ in range(loops):
        before = _scheduler_heartbeat(airflow)
        wait_until(lambda b=before: _scheduler_heartbeat(airflow) > b, 60, "a scheduler heartbeat", interval=1,
                   check=airflow.check_alive)


def _query(dsn: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    from atlas.warehouse import connect

    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.rollback()
        conn.close()


def _fresh_warehouse(dsn: str) -> None:
    """Drop every Atlas schema and create them again: the round starts from nothing."""
    from atlas.warehouse import connect, ensure_warehouse
    from atlas.warehouse.bootstrap import SCHEMAS

    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            for schema in SCHEMAS:
                cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.commit()
        ensure_warehouse(conn)
    finally:
        conn.close()


def _cross_table_state(home: AtlasHome) -> dict[str, Any]:
    return {
        "gold_table": _query(home.dsn, "SELECT to_regclass('gold.customer_360') IS NOT NULL")[0][0],
        "features_table": _query(home.dsn, "SELECT to_regclass('ai_ready.customer_features') IS NOT NULL")[0][0],
        "versions": _query(home.dsn, "SELECT count(*) FROM atlas_meta.ai_ready_versions "
                                     "WHERE dataset = 'customer_features' AND logical_date = %s", DS)[0][0],
    }


def _snapshot(home: AtlasHome) -> dict[str, Any]:
    columns = [c for (c,) in _query(home.dsn, "SELECT column_name FROM information_schema.columns WHERE "
                                              "table_schema = 'gold' AND table_name = 'customer_360' "
                                              "AND column_name <> '_atlas_run_id' ORDER BY ordinal_position")]
    lake = home.path / "lake"
    manifest = json.loads((lake / "ai_ready" / "customer_features" / f"version={DS}" / "manifest.json").read_text())
    return {
        "customer_360": _query(home.dsn, f"SELECT {', '.join(columns)} FROM gold.customer_360 ORDER BY customer_id"),
        "customer_features": _query(home.dsn, "SELECT * FROM ai_ready.customer_features ORDER BY row_key"),
        "content_hash": manifest["content_hash"],
        "manifest_source_run": manifest["source"]["run_id"],
        "version_folders": sorted(p.name for p in (lake / "ai_ready" / "customer_features").iterdir()),
        "order_metrics": _query(home.dsn, "SELECT sum(total_orders), count(DISTINCT rfm_segment), "
                                          "count(*) FILTER (WHERE total_orders > 0) FROM gold.customer_360")[0],
    }


def _wait_finished(api: ApiClient, run_id: str) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        run = api.json("GET", f"/api/v2/dags/{GOLD_DAG}/dagRuns/{run_id}")
        return run if run["state"] in ("success", "failed") else None

    return wait_until(finished, 300, f"run {run_id} to finish", interval=2)


@pytest.fixture(scope="module")
def missing_input_run(api: ApiClient) -> dict[str, Any]:
    """A run triggered by hand for a date no table delivered (queued first, fails while round one runs)."""
    return api.json("POST", f"/api/v2/dags/{GOLD_DAG}/dagRuns",
                    json={"logical_date": None, "partition_key": MISSING_DS})


@pytest.fixture(scope="module")
def rounds(airflow: AirflowServer, api: ApiClient, home: AtlasHome, missing_input_run: dict[str, Any]) -> dict:
    from atlas import sample_data

    sample_data.generate(home.landing, DS, customers=CUSTOMERS, orders=ORDERS, seed=21)
    results: dict[str, dict[str, Any]] = {}
    for name, ((first, second), logical_date) in ROUNDS.items():
        if results:  # the first round starts on the home's new warehouse
            _wait_finished(api, missing_input_run["dag_run_id"])  # it reads the warehouse about to be dropped
            _fresh_warehouse(home.dsn)
        known = {r["dag_run_id"] for r in _gold_runs(api)}
        timings = {first: _dags_test(airflow, home, first, logical_date)}
        _let_scheduler_loop(airflow)
        after_first = {"runs": [r for r in _gold_runs(api) if r["dag_run_id"] not in known],
                       "pending": _pending(airflow, DS), **_cross_table_state(home)}
        timings[second] = _dags_test(airflow, home, second, logical_date)
        started = time.monotonic()

        def finished(known: set[str] = known) -> list[dict[str, Any]] | None:
            new = [r for r in _gold_runs(api) if r["dag_run_id"] not in known]
            return new if new and all(r["state"] in ("success", "failed") for r in new) else None

        runs = wait_until(finished, 600, f"the asset-triggered run of {GOLD_DAG} ({name})", interval=3,
                          check=airflow.check_alive)
        _let_scheduler_loop(airflow)  # a second run for the same date would have been created by now
        runs = [r for r in _gold_runs(api) if r["dag_run_id"] not in known]
        timings["gold"] = time.monotonic() - started
        run_id = runs[0]["dag_run_id"]
        results[name] = {
            "after_first": after_first, "runs": runs, "timings": timings,
            "tasks": {ti["task_id"]: ti for ti in api.json(
                "GET", f"/api/v2/dags/{GOLD_DAG}/dagRuns/{run_id}/taskInstances")["task_instances"]},
            "consumed": api.json("GET", f"/api/v2/dags/{GOLD_DAG}/dagRuns/{run_id}/upstreamAssetEvents")[
                "asset_events"],
            "events": {t: api.json("GET", "/api/v2/assets/events", params={"source_dag_id": f"atlas_{t}",
                                                                            "limit": 100})["asset_events"]
                       for t in (first, second)},
            "table_runs": {t: api.json("GET", f"/api/v2/dags/atlas_{t}/dagRuns", params={"limit": 100})["dag_runs"]
                           for t in (first, second)},
            "state": _cross_table_state(home), "snapshot": _snapshot(home),
        }
        print(f"\n{name}: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    return results


def test_one_table_in_builds_nothing_cross_table(rounds: dict) -> None:
    for name, ((first, _), _) in ROUNDS.items():
        after = rounds[name]["after_first"]
        assert after["runs"] == [], f"{name}: no {GOLD_DAG} run with only {first} in"
        assert after["pending"] == [[f"silver.{first}"]], f"{name}: the date's partition waits with one input"
        assert after == {**after, "gold_table": False, "features_table": False, "versions": 0}, name


def test_the_second_table_triggers_exactly_one_run_for_the_date(rounds: dict) -> None:
    for name, ((first, second), _) in ROUNDS.items():
        result = rounds[name]
        [run] = result["runs"]
        assert (run["run_type"], run["partition_key"], run["logical_date"], run["state"]) == (
            "asset_triggered", DS, None, "success"), name
        assert run["partition_date"].startswith(f"{DS}T00:00:00"), "StartOfDayMapper dates the partition"
        tasks = result["tasks"]
        assert {t: ti["state"] for t, ti in tasks.items()} == {"build_gold": "success", "publish_ai_ready": "success"}
        assert all(ti["try_number"] == 1 for ti in tasks.values()), "built and published once"
        consumed = {(e["name"], e["source_dag_id"], e["partition_key"]) for e in result["consumed"]}
        assert consumed == {("silver.customers", "atlas_customers", DS), ("silver.orders", "atlas_orders", DS)}
        # the run starts only after the second table's silver event
        second_event = max(e["timestamp"] for e in result["consumed"] if e["source_dag_id"] == f"atlas_{second}")
        first_event = max(e["timestamp"] for e in result["consumed"] if e["source_dag_id"] == f"atlas_{first}")
        assert first_event < second_event <= run["queued_at"], name


def test_table_dags_tag_their_asset_events_with_the_logical_date(rounds: dict) -> None:
    for name, result in rounds.items():
        for table, events in result["events"].items():
            run_ids = {r["dag_run_id"] for r in result["table_runs"][table]}
            mine = [e for e in events if e["source_run_id"] in run_ids]
            emitted = {(e["name"], e["source_task_id"]) for e in mine}
            assert {(f"bronze.{table}", "ingest_bronze"), (f"silver.{table}", "check_quality")} <= emitted, name
            assert {e["partition_key"] for e in mine} == {DS}, f"{name}: {table}"
            assert {e["extra"]["logical_date"] for e in mine} == {DS}
        orders_outputs = {e["name"] for e in result["events"]["orders"]}
        assert {"gold.daily_revenue", "gold.order_facts", "ai_ready.order_features"} <= orders_outputs
        assert "gold.customer_360" not in orders_outputs | {e["name"] for e in result["events"]["customers"]}


def test_both_arrival_orders_give_identical_gold_and_features(rounds: dict) -> None:
    first, second = (rounds[name]["snapshot"] for name in ROUNDS)
    assert len(first["customer_360"]) > 0.8 * CUSTOMERS and len(first["customer_features"]) == len(
        first["customer_360"])
    assert first["customer_360"] == second["customer_360"], "same rows, same values (run id aside)"
    assert first["customer_features"] == second["customer_features"]
    assert first["content_hash"] == second["content_hash"]
    total_orders, segments, with_orders = first["order_metrics"]
    assert total_orders > 0.8 * ORDERS and segments > 1 and with_orders > 0.5 * len(first["customer_360"])
    for name in ROUNDS:
        snapshot, state = rounds[name]["snapshot"], rounds[name]["state"]
        assert state["versions"] == 1 and snapshot["version_folders"] == [f"version={DS}"], name
        assert snapshot["manifest_source_run"] == rounds[name]["runs"][0]["dag_run_id"], "built in the same run"


def test_a_hand_triggered_date_without_inputs_fails_before_building(api: ApiClient, rounds: dict,
                                                                    missing_input_run: dict[str, Any]) -> None:
    run_id = missing_input_run["dag_run_id"]
    run = _wait_finished(api, run_id)
    tasks = {ti["task_id"]: ti for ti in api.json(
        "GET", f"/api/v2/dags/{GOLD_DAG}/dagRuns/{run_id}/taskInstances")["task_instances"]}
    assert (run["run_type"], run["partition_key"], run["state"]) == ("manual", MISSING_DS, "failed")
    assert tasks["build_gold"]["state"] == "failed" and tasks["build_gold"]["try_number"] == 1, "fails fast"
    assert tasks["publish_ai_ready"]["state"] == "upstream_failed"
    log = api.json("GET", f"/api/v2/dags/{GOLD_DAG}/dagRuns/{run_id}/taskInstances/build_gold/logs/1",
                   headers={"Accept": "application/json"})
    text = json.dumps(log)
    assert f"inputs not in for {MISSING_DS}" in text and "silver.customers" in text and "silver.orders" in text
