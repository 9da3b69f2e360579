"""Lineage as Marquez receives it: both table DAGs and the cross-table gold DAG run with the
OpenLineage HTTP transport pointed at a local receiver that validates every event against the
OpenLineage JSON schemas.

Asserts valid events only, START and COMPLETE for every task, schema facets on every warehouse
dataset, column lineage bronze → silver with the protected columns marked as masking, quality
facets on the checked table, every gold model's inputs exactly the tables its SQL reads, and the
dataset graph bronze → silver → gold → ai_ready. (The cross-table DAG runs here with
``airflow dags test`` for the date, after both tables: this module is about what lineage says;
``tests/test_assets.py`` covers when Airflow starts that DAG.)
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from atlas import settings
from atlas.factory import CROSS_TABLE_STAGES, TASK_IDS
from atlas.gold import model_tables
from tests.helpers.atlas_home import isolated_atlas_home
from tests.helpers.openlineage_receiver import LineageReceiver, lineage_receiver

pytestmark = pytest.mark.slow

DS = "2026-11-12"
TABLES = ("customers", "orders")
GOLD_DAG = "atlas_gold_customer_360"
DAGS = {"atlas_customers": TASK_IDS, "atlas_orders": TASK_IDS, GOLD_DAG: CROSS_TABLE_STAGES}
SKIPPED = {"atlas_customers": {"build_gold", "publish_ai_ready"}}  # customer_360 and its features: GOLD_DAG
CUSTOMERS, ORDERS = 300, 1_200
MASKED = {"customers": {"customer_id", "customer_name", "email_address", "phone_number", "cpr_number", "address",
                        "notes"},
          "orders": {"customer_id", "shipping_address"}}
NOT_MASKED = {"customers": {"city", "customer_tier", "created_at", "is_active"},
              "orders": {"order_id", "order_amount", "status", "currency"}}
CHAINS = {"customers": ["bronze.customers", "silver.customers", "gold.customer_360", "ai_ready.customer_features"],
          "orders": ["bronze.orders", "silver.orders", "gold.order_facts", "ai_ready.order_features"]}


@pytest.fixture(scope="module")
def lineage(airflow_db: str) -> Iterator[dict[str, Any]]:
    """Land sample extracts in an isolated home (own warehouse), run both DAGs (``airflow dags test``)
    sending lineage to the receiver."""
    from atlas import sample_data

    with isolated_atlas_home(settings.atlas_home() / "lineage-run") as home, lineage_receiver() as receiver:
        sample_data.generate(home.landing, DS, customers=CUSTOMERS, orders=ORDERS, seed=12)
        env = dict(os.environ, **home.env, AIRFLOW__OPENLINEAGE__TRANSPORT=receiver.transport())
        runs, started = {}, time.monotonic()
        for dag_id in DAGS:
            runs[dag_id] = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", dag_id, DS],
                                          capture_output=True, text=True, timeout=600, env=env)
        elapsed = time.monotonic() - started
    dag_level = sum(1 for e in receiver.valid if "." not in e["job"]["name"])
    print(f"\nthree DAGs in {elapsed:.1f} s; lineage events: {len(receiver.valid)} valid ({dag_level} DAG-level), "
          f"{len(receiver.invalid)} invalid")
    yield {"runs": runs, "receiver": receiver}


@pytest.fixture(scope="module")
def receiver(lineage: dict[str, Any]) -> LineageReceiver:
    for dag_id, run in lineage["runs"].items():
        assert run.returncode == 0, f"{dag_id} failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}"
    return lineage["receiver"]


def _task_events(receiver: LineageReceiver, dag_id: str) -> dict[str, list[dict[str, Any]]]:
    """This run's events per task of ``dag_id`` (job name ``<dag_id>.<task_id>``); a table's name
    stands for its DAG."""
    dag_id = dag_id if dag_id in DAGS else f"atlas_{dag_id}"
    events = defaultdict(list)
    for event in receiver.valid:
        dag, _, task = event["job"]["name"].partition(".")
        if dag == dag_id and task:
            events[task].append(event)
    return events


def _complete(receiver: LineageReceiver, dag_id: str, task: str) -> dict[str, Any]:
    [event] = [e for e in _task_events(receiver, dag_id)[task] if e["eventType"] == "COMPLETE"]
    return event


def _table(dataset: dict[str, Any]) -> str:
    """``schema.table`` of a warehouse dataset named ``<db>.<schema>.<table>``."""
    return dataset["name"].split(".", 1)[1]


def test_every_event_is_valid_openlineage(receiver: LineageReceiver) -> None:
    problems = [f"{e.get('job', {}).get('name')} {e.get('eventType')}: {errors[:3]}" for e, errors in receiver.invalid]
    assert problems == []
    assert receiver.rejected_requests == 0
    assert len(receiver.valid) >= 2 * sum(len(stages) for stages in DAGS.values())


def test_start_and_complete_for_every_task(receiver: LineageReceiver) -> None:
    for dag_id, stages in DAGS.items():
        events = _task_events(receiver, dag_id)
        assert set(events) == set(stages), dag_id
        for task, task_events in events.items():
            kinds = sorted(e["eventType"] for e in task_events)
            assert kinds == ["COMPLETE", "START"], f"{dag_id}.{task}: {kinds}"
            assert len({e["run"]["runId"] for e in task_events}) == 1, "START and COMPLETE share the run id"


def test_warehouse_datasets_carry_schema_and_row_counts(receiver: LineageReceiver) -> None:
    for dag_id, stages in DAGS.items():
        for task in set(stages) - {"wait_for_source"} - SKIPPED.get(dag_id, set()):
            event = _complete(receiver, dag_id, task)
            assert event["inputs"] or event["outputs"], f"{dag_id}.{task} reports datasets"
            for dataset in event["inputs"] + event["outputs"]:
                if dataset["namespace"].startswith("postgres://"):
                    fields = dataset["facets"]["schema"]["fields"]
                    assert fields and all(f["name"] and f["type"] for f in fields), dataset["name"]
            for dataset in event["outputs"]:
                if dataset["namespace"].startswith("postgres://"):
                    assert dataset["outputFacets"]["outputStatistics"]["rowCount"] >= 0, dataset["name"]


def test_silver_column_lineage_marks_masked_columns(receiver: LineageReceiver) -> None:
    for table in TABLES:
        [silver] = _complete(receiver, table, "build_silver")["outputs"]
        fields = silver["facets"]["columnLineage"]["fields"]
        masking = {column: any(t.get("masking") for f in spec["inputFields"] for t in f["transformations"])
                   for column, spec in fields.items()}
        assert {_table(f) for spec in fields.values() for f in spec["inputFields"]} == {f"bronze.{table}"}
        assert {c for c, masked in masking.items() if masked} >= MASKED[table]
        assert not {c for c, masked in masking.items() if masked} & NOT_MASKED[table]
        assert silver["outputFacets"]["outputStatistics"]["rowCount"] > 0.8 * (CUSTOMERS if table == "customers"
                                                                               else ORDERS)


def test_quality_facets_on_the_checked_table(receiver: LineageReceiver) -> None:
    for table in TABLES:
        checked = {_table(d): d for d in _complete(receiver, table, "check_quality")["inputs"]}
        assert f"silver.{table}" in checked and set(checked) <= {f"bronze.{table}", f"silver.{table}"}
        for dataset in checked.values():
            assertions = dataset["inputFacets"]["dataQualityAssertions"]["assertions"]
            assert assertions and all(isinstance(a["success"], bool) for a in assertions), dataset["name"]
        assert len(checked[f"silver.{table}"]["inputFacets"]["dataQualityAssertions"]["assertions"]) > 5


def test_dataset_graph_from_bronze_to_ai_ready(receiver: LineageReceiver) -> None:
    edges = set()
    for event in receiver.valid:
        if event["eventType"] == "COMPLETE":
            edges |= {(_name(i), _name(o)) for i in event.get("inputs", []) for o in event.get("outputs", [])}
    for table, chain in CHAINS.items():
        for upstream, downstream in itertools.pairwise(chain):
            assert (upstream, downstream) in edges, f"{upstream} → {downstream}"
        assert any(u.startswith("file:") and u.endswith(f"/{table}/{DS}/{table}.csv") and d == f"bronze.{table}"
                   for u, d in edges), f"landed file → bronze.{table}"
    assert ("silver.orders", "gold.customer_360") in edges and ("silver.customers", "gold.order_facts") not in edges
    for source, name in (("gold.customer_360", "customer_features"), ("gold.order_facts", "order_features")):
        assert any(u == source and d.endswith(f"/ai_ready/{name}/version={DS}") for u, d in edges), name


def test_gold_inputs_are_exactly_what_each_model_reads(receiver: LineageReceiver) -> None:
    """Every build_gold event: its outputs are the models built, its inputs exactly the tables their
    SQL reads (a task builds only models with the same inputs)."""
    built = {}
    for dag_id in DAGS:
        if "build_gold" in SKIPPED.get(dag_id, set()):
            event = _complete(receiver, dag_id, "build_gold")
            assert not [d for d in event["inputs"] + event["outputs"] if "gold." in d["name"]], dag_id
            continue
        event = _complete(receiver, dag_id, "build_gold")
        inputs = sorted(_table(d) for d in event["inputs"])
        for output in event["outputs"]:
            model = _table(output).removeprefix("gold.")
            assert inputs == list(model_tables(model).inputs), f"{dag_id}: {model}"
            built[model] = dag_id
    assert built == {"customer_360": GOLD_DAG, "daily_revenue": "atlas_orders", "order_facts": "atlas_orders"}


def _name(dataset: dict[str, Any]) -> str:
    """``schema.table`` for warehouse datasets, ``file:<path>`` for files."""
    if dataset["namespace"].startswith("postgres://"):
        return _table(dataset)
    return f"{dataset['namespace']}:{Path(dataset['name'])}"
