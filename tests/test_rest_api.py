"""Trigger a table's DAG through Airflow's REST API v2 on a real Airflow.

The server (api-server, scheduler, dag-processor; ``tests/helpers/airflow_server.py``) runs on a
free local port with its own embedded warehouse, landing area and lake. Everything after start-up is HTTP: a token from
``POST /auth/token``, params validated on ``POST dagRuns``, unpause, poll the run, read task
instances and the build_silver XCom. With Chromium installed, the run's graph page is rendered
headless and screenshotted.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from atlas import settings
from tests.helpers.airflow_server import (
    AirflowServer,
    ApiClient,
    airflow_server,
    wait_for_dag,
    wait_for_run,
)
from tests.helpers.atlas_home import AtlasHome, isolated_atlas_home
from tests.helpers.chromium import chromium_path, headless_chromium

pytestmark = pytest.mark.slow

DAG_ID = "atlas_customers"
DS = "2026-11-11"
LOGICAL_DATE = f"{DS}T00:00:00Z"
CUSTOMERS, ORDERS = 300, 1_200
STAGES = ["wait_for_source", "ingest_bronze", "detect_pii", "plan_silver", "stage_silver", "build_silver",
          "check_quality", "build_gold", "publish_ai_ready"]
# customers feed only the cross-table customer_360, built (with customer_features) by atlas_gold_customer_360
EXPECTED = {**dict.fromkeys(STAGES, "success"), "build_gold": "skipped", "publish_ai_ready": "skipped"}


@pytest.fixture(scope="module")
def home() -> Iterator[AtlasHome]:
    """The server's own warehouse, landing area and lake (other tests' data cannot change its run)."""
    with isolated_atlas_home(settings.atlas_home() / "rest-api") as atlas_home:
        yield atlas_home


@pytest.fixture(scope="module")
def landed(home: AtlasHome) -> dict[str, Any]:
    """Sample extracts under ``<landing>/rest-api/``, named in the run's conf as ``source_file``."""
    from atlas import sample_data

    summary = sample_data.generate(home.landing / "rest-api", DS, customers=CUSTOMERS, orders=ORDERS, seed=11)
    return {"source_file": f"rest-api/customers/{DS}/*.csv", "summary": summary}


@pytest.fixture(scope="module")
def airflow(home: AtlasHome) -> Iterator[AirflowServer]:
    """No scheduled runs: unpausing would start today's run, whose sensor waits for files that never
    land, and the triggered run would queue behind it (max_active_runs=1)."""
    env = {**home.env, "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}
    with airflow_server(home.path / "airflow", extra_env=env) as server:
        yield server
    assert not server.session_processes(), "every process the server started has ended"


@pytest.fixture(scope="module")
def api(airflow: AirflowServer) -> Iterator[ApiClient]:
    client = airflow.client()
    started = time.monotonic()
    wait_for_dag(client, DAG_ID, timeout=180)
    print(f"\nAirflow API healthy after {airflow.startup_seconds:.1f} s; "
          f"{DAG_ID} listed {time.monotonic() - started:.1f} s later")
    yield client
    client.close()


def _trigger(api: ApiClient, conf: dict[str, Any], logical_date: str | None = LOGICAL_DATE) -> Any:
    return api.request("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": logical_date, "conf": conf})


def _xcom(api: ApiClient, run_id: str, task_id: str) -> Any:
    entry = api.json("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/"
                            "xcomEntries/return_value")
    value = entry["value"]
    return json.loads(value) if isinstance(value, str) else value


def test_unauthenticated_calls_get_401(airflow: AirflowServer) -> None:
    anonymous = airflow.client(authenticated=False)
    try:
        assert anonymous.request("GET", "/api/v2/dags").status_code == 401
        assert anonymous.request("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False}).status_code == 401
        assert _trigger(anonymous, {}).status_code == 401
        wrong = anonymous.request("POST", "/auth/token", json={"username": "admin", "password": "not-it"})
        assert wrong.status_code == 401
        forged = ApiClient(airflow.base_url, token="not.a.jwt")
        assert forged.request("GET", "/api/v2/dags").status_code == 403, "Airflow refuses a bad token with 403"
        forged.close()
    finally:
        anonymous.close()


def test_dag_page_shows_description_owner_and_schedule(api: ApiClient) -> None:
    details = api.json("GET", f"/api/v2/dags/{DAG_ID}/details")
    assert details["owners"] == ["crm-data-team"]
    assert details["timetable_summary"] == "0 0 * * *" and details["catchup"] is False, "@daily, no catchup"
    assert details["is_paused"] is True, "new DAGs start paused"
    assert "Customer master data" in details["doc_md"] and "runbooks/customers" in details["doc_md"]
    assert {"atlas", "table:customers"} <= {t["name"] for t in details["tags"]}
    assert set(details["params"]) == {"source_file", "full_refresh"}
    tasks = {t["task_id"]: t for t in api.json("GET", f"/api/v2/dags/{DAG_ID}/tasks")["tasks"]}
    assert set(tasks) == set(STAGES) and all(t["doc_md"] for t in tasks.values())
    assert [tasks[a]["downstream_task_ids"] for a in STAGES] == [[b] for b in STAGES[1:]] + [[]]


@pytest.mark.parametrize(("conf", "param"), [
    ({"full_refresh": "yes"}, "full_refresh"),
    ({"source_file": "two words.csv"}, "source_file"),
    ({"source_file": "{{cycler.__init__.__globals__.os.popen('id').read()}}customers/{{ds}}/*.csv"},
     "source_file"),
    ({"source_file": "../../../../../../../../etc/passwd"}, "source_file"),
    ({"source_file": "/etc/passwd"}, "source_file"),
])
def test_bad_conf_is_rejected_naming_the_param(api: ApiClient, conf: dict[str, Any], param: str) -> None:
    response = _trigger(api, conf, logical_date=None)
    assert response.status_code == 400
    assert f"Invalid input for param {param}" in response.json()["detail"]
    runs = api.json("GET", f"/api/v2/dags/{DAG_ID}/dagRuns")
    assert all(run["conf"] != conf for run in runs["dag_runs"]), "no run was created"


@pytest.fixture(scope="module")
def triggered(airflow: AirflowServer, api: ApiClient, landed: dict[str, Any]) -> dict[str, Any]:
    """Trigger the paused DAG with conf, unpause it and poll the run until it finishes."""
    conf = {"source_file": landed["source_file"], "full_refresh": False}
    response = _trigger(api, conf)
    assert response.status_code == 200, response.text
    started = time.monotonic()
    unpaused = api.json("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False})
    assert unpaused["is_paused"] is False
    run_id = response.json()["dag_run_id"]
    finished = wait_for_run(api, DAG_ID, run_id, timeout=420, check=airflow.check_alive)
    print(f"\n{DAG_ID} via REST: {finished['state']} in {time.monotonic() - started:.1f} s")
    return {"conf": conf, "trigger": response.json(), "run": finished, "run_id": run_id}


def test_trigger_with_conf_runs_to_success(api: ApiClient, landed: dict[str, Any],
                                           triggered: dict[str, Any]) -> None:
    trigger, run_id = triggered["trigger"], triggered["run_id"]
    assert trigger["state"] == "queued" and trigger["run_type"] == "manual"
    assert trigger["conf"] == triggered["conf"] and trigger["logical_date"].startswith(DS)
    instances = api.json("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")
    states = {ti["task_id"]: ti["state"] for ti in instances["task_instances"]}
    assert triggered["run"]["state"] == "success", states
    assert states == EXPECTED

    bronze = _xcom(api, run_id, "ingest_bronze")
    assert bronze["rows"] == CUSTOMERS and bronze["logical_date"] == DS
    assert [Path(f["source"]).parts[-4:] for f in bronze["files"]] == [("rest-api", "customers", DS, "customers.csv")]
    silver = _xcom(api, run_id, "build_silver")
    assert silver["bronze_rows"] == CUSTOMERS
    assert silver["bronze_rows"] == (silver["silver_rows"] + silver["quarantined_rows"]
                                     + silver["duplicates_removed"] + silver["superseded_rows"])
    # a resent row that breaks a rule is quarantined rather than counted as a removed duplicate
    assert 0 < silver["duplicates_removed"] <= landed["summary"].duplicate_customer_ids
    assert sum(silver["reasons"].values()) == silver["quarantined_rows"] > 0
    assert silver["protected"]["email_address"] == "pseudonymize"


@pytest.mark.skipif(chromium_path() is None and not os.environ.get("CI"),
                    reason="Chromium not installed (Debian: apt-get install -y chromium; CI installs it)")
def test_graph_page_renders_in_headless_chromium(airflow: AirflowServer, triggered: dict[str, Any]) -> None:
    """The run's graph in the Airflow UI: a node per stage (silver a task group), screenshot kept next to
    the server's logs."""
    page = f"{airflow.base_url}/dags/{DAG_ID}/runs/{triggered['run_id']}"
    nodes = "[...document.querySelectorAll('.react-flow__node')].map(n => n.innerText)"
    with headless_chromium(airflow.airflow_home / "chromium") as browser:
        browser.call("Network.setCookie", name="_token", value=airflow.token(), url=f"{airflow.base_url}/")
        browser.open(f"{airflow.base_url}/")
        browser.evaluate("localStorage.setItem('default_dag_view', JSON.stringify('graph'))")
        # drawn once the last stage's node is there; the silver task group is one node ("silver")
        # while collapsed, and its three tasks when opened
        browser.open(page, ready=f"{nodes}.join(' ').includes('publish_ai_ready')")
        time.sleep(1)  # let the layout settle before the picture
        labels = browser.evaluate(f"{nodes}.join(' ')")
        png = browser.screenshot(airflow.airflow_home / "screenshots" / f"{DAG_ID}-graph.png")
    outside = [s for s in STAGES if s not in ("plan_silver", "stage_silver", "build_silver")]
    assert all(stage in labels for stage in outside), labels
    assert "silver" in labels.replace("build_silver", "").replace("stage_silver", "").replace("plan_silver", ""), labels
    assert labels.count("skipped") == 2 and labels.count("success") >= 4, labels
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
