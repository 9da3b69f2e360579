"""The CeleryExecutor configuration of docker-compose.yaml on a real Airflow and a real Celery worker.

docker-compose.yaml runs ``AIRFLOW__CORE__EXECUTOR=CeleryExecutor`` with a Redis broker and
``airflow celery worker`` services. Here the same executor and worker run as local processes
(``tests/helpers/airflow_server.py``) with kombu's SQLAlchemy transport as the broker and Celery's
database result backend, both SQLite files, so no Redis is needed. A table DAG is triggered over
the REST API; every task must have been received and executed by the Celery worker.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from atlas import settings
from tests.helpers.airflow_server import AirflowServer, airflow_server, wait_for_dag, wait_for_run, wait_until
from tests.helpers.atlas_home import AtlasHome, isolated_atlas_home

pytestmark = pytest.mark.slow

DAG_ID = "atlas_customers"
DS = "2026-11-12"
STAGES = ["wait_for_source", "ingest_bronze", "detect_pii", "plan_silver", "stage_silver", "build_silver",
          "check_quality", "build_gold", "publish_ai_ready"]
WORKER = "celery worker"


@pytest.fixture(scope="module")
def home() -> Iterator[AtlasHome]:
    pytest.importorskip("airflow.providers.celery.executors.celery_executor",
                        reason="apache-airflow-providers-celery is not installed")
    with isolated_atlas_home(settings.atlas_home() / "celery") as atlas_home:
        yield atlas_home


def celery_env(airflow_home: Path) -> dict[str, str]:
    """The compose file's executor settings, with SQLite files in place of Redis and PostgreSQL."""
    airflow_home.mkdir(parents=True, exist_ok=True)
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": f"sqla+sqlite:///{airflow_home / 'celery-broker.db'}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+sqlite:///{airflow_home / 'celery-results.db'}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
    }


@pytest.fixture(scope="module")
def airflow(home: AtlasHome) -> Iterator[AirflowServer]:
    airflow_home = home.path / "airflow"
    env = {**home.env, **celery_env(airflow_home), "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}
    with airflow_server(airflow_home, extra_env=env, extra_components=(WORKER,)) as server:
        wait_until(lambda: re.search(r"celery@\S+ ready", server.log_tail(WORKER, lines=200)), 120,
                   "the Celery worker to be ready", check=server.check_alive)
        yield server
    assert not server.session_processes(), "every process the server and the worker started has ended"


@pytest.fixture(scope="module")
def run(airflow: AirflowServer, home: AtlasHome) -> dict[str, Any]:
    from atlas import sample_data

    sample_data.generate(home.landing / "celery", DS, customers=200, orders=400, seed=5)
    api = airflow.client()
    try:
        wait_for_dag(api, DAG_ID, timeout=180)
        conf = {"source_file": f"celery/customers/{DS}/*.csv", "full_refresh": False}
        trigger = api.json("POST", f"/api/v2/dags/{DAG_ID}/dagRuns",
                           json={"logical_date": f"{DS}T00:00:00Z", "conf": conf})
        api.json("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False})
        started = time.monotonic()
        finished = wait_for_run(api, DAG_ID, trigger["dag_run_id"], timeout=240, check=airflow.check_alive)
        print(f"\n{DAG_ID} on the CeleryExecutor: {finished['state']} in {time.monotonic() - started:.1f} s")
        instances = api.json("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{trigger['dag_run_id']}/taskInstances")
    finally:
        api.close()
    return {"run": finished, "instances": {ti["task_id"]: ti for ti in instances["task_instances"]}}


def test_every_task_runs_on_the_celery_worker_and_succeeds(airflow: AirflowServer, run: dict[str, Any]) -> None:
    instances = run["instances"]
    assert run["run"]["state"] == "success", {t: ti["state"] for t, ti in instances.items()}
    # customers feed only the cross-table customer_360 (built by atlas_gold_customer_360): the last two skip
    assert {t: ti["state"] for t, ti in instances.items()} == {
        **dict.fromkeys(STAGES, "success"), "build_gold": "skipped", "publish_ai_ready": "skipped"}
    assert {ti["queue"] for ti in instances.values()} == {"default"}, "the Celery queue the worker consumes"

    def celery_done() -> dict[str, Any] | None:
        """The worker's log and Celery's stored results, once the last task's result is in (it lags the
        task instance's state)."""
        log = (airflow.airflow_home / "celery-worker.log").read_text(errors="replace")
        results = sqlite3.connect(airflow.airflow_home / "celery-results.db")
        try:
            statuses = [status for (status,) in results.execute("SELECT status FROM celery_taskmeta")]
        finally:
            results.close()
        received = re.findall(r"Task execute_workload\[[0-9a-f-]+\] received", log)
        succeeded = re.findall(r"Task execute_workload\[[0-9a-f-]+\] succeeded in", log)
        settled = set(statuses) == {"SUCCESS"} and len(succeeded) == len(received)
        return {"log": log, "statuses": statuses, "succeeded": succeeded} if settled else None

    done = wait_until(celery_done, 30, "the Celery worker to report every task")
    executed = re.findall(r"Executing workload in Celery: .*?task_id=(\w+)/", done["log"])
    assert set(executed) == set(STAGES), f"tasks the Celery worker executed: {executed}\n{done['log'][-3000:]}"
    assert len(done["succeeded"]) == len(done["statuses"]) == len(executed), done["statuses"]
    assert "CeleryExecutor" in (airflow.airflow_home / "scheduler.log").read_text(errors="replace")
