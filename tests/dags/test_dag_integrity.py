"""DAG integrity and structure: every table config yields a DAG with the seven stages in order, and
every cross-table gold model a DAG of its own, scheduled on its inputs' silver assets per date."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from atlas import settings
from atlas.config import GoldSpec, load_table_specs, load_valid_specs
from atlas.factory import CROSS_TABLE_STAGES, TASK_IDS
from atlas.gold import model_tables
from atlas.gold_plan import plan_gold

DAGS = settings.PROJECT_ROOT / "dags"
CROSS_TABLE = {"atlas_gold_customer_360": "customer_360"}
OWN_DAGS = ["atlas_erasure", "atlas_maintenance"]  # tests/maintenance/test_maintenance_dags.py


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def _table_names() -> list[str]:
    return [r.file.stem for r in load_table_specs(settings.tables_dir())]


def test_dag_file_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert sorted(dagbag.dag_ids) == sorted([f"atlas_{t}" for t in _table_names()] + list(CROSS_TABLE) + OWN_DAGS)


@pytest.mark.parametrize("table", _table_names())
def test_tasks_in_stage_order(dagbag, table):
    dag = dagbag.dags[f"atlas_{table}"]
    assert [t.task_id for t in dag.topological_sort()] == list(TASK_IDS)
    for upstream, downstream in itertools.pairwise(TASK_IDS):
        assert dag.task_dict[upstream].downstream_task_ids == {downstream}


@pytest.mark.parametrize("table", _table_names())
def test_silver_is_one_task_group_with_a_mapped_stage(dagbag, table):
    """plan → one stage task per partition (dynamic task mapping over the plan's XCom) → publish,
    grouped so the DAG still reads sensor → bronze → PII → silver → quality → gold → AI-ready."""
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    dag = dagbag.dags[f"atlas_{table}"]
    group = dag.task_group_dict["silver"]
    assert sorted(group.children) == ["build_silver", "plan_silver", "stage_silver"]
    stage = dag.task_dict["stage_silver"]
    assert isinstance(stage, MappedOperator) and stage.operator_class.__name__ == "StageSilverOperator"
    [(argument, source)] = stage.expand_input.value.items()
    assert argument == "partition" and source.operator.task_id == "plan_silver"
    assert type(dag.task_dict["build_silver"]).__name__ == "BuildSilverOperator", "the publish keeps the stage's id"


@pytest.mark.parametrize("table", _table_names())
def test_dag_settings(dagbag, table):
    dag = dagbag.dags[f"atlas_{table}"]
    assert {"atlas", f"table:{table}"} <= set(dag.tags)
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert "source_file" in dag.params and "full_refresh" in dag.params
    assert dag.doc_md and f"# {table}" in dag.doc_md
    for task in dag.tasks:
        assert task.retries >= 2, task.task_id
        assert task.retry_exponential_backoff >= 2
        assert task.owner != "airflow"
        operator = getattr(task, "operator_class", type(task))  # a mapped task's operator
        assert operator.__module__.startswith("atlas."), "every task is an Atlas operator"
        assert task.execution_timeout is not None, f"{task.task_id}: a hang must become a failed try"
    assert dag.task_dict["wait_for_source"].mode == "reschedule"


def test_schedule_is_daily_by_default(dagbag):
    for table in _table_names():
        assert dagbag.dags[f"atlas_{table}"].timetable.expression == "0 0 * * *", table  # @daily


def _names(assets) -> list[str]:
    return [a.name for a in assets]


@pytest.mark.parametrize("table", _table_names())
def test_table_assets_landing_to_ai_ready(dagbag, table):
    """ingest_bronze: landing → bronze; check_quality: → silver (the date's checked slice);
    build_gold: silver → its per-table models; publish_ai_ready: source → dataset (if published here)."""
    tasks = dagbag.dags[f"atlas_{table}"].task_dict
    assert (_names(tasks["ingest_bronze"].inlets), _names(tasks["ingest_bronze"].outlets)) == (
        [f"landing.{table}"], [f"bronze.{table}"])
    assert _names(tasks["check_quality"].outlets) == [f"silver.{table}"]
    assert not tasks["build_silver"].outlets, "silver counts as in only after its quality gate"
    for model in tasks["build_gold"].models:
        assert model_tables(model).inputs == (f"silver.{table}",), "per-table models read only their table"
    assert _names(tasks["build_gold"].outlets) == [f"gold.{m}" for m in tasks["build_gold"].models]


def test_models_are_placed_by_what_their_sql_reads(dagbag):
    orders, customers = dagbag.dags["atlas_orders"].task_dict, dagbag.dags["atlas_customers"].task_dict
    assert orders["build_gold"].models == ["daily_revenue", "order_facts"]
    assert customers["build_gold"].models == []
    assert _names(orders["publish_ai_ready"].outlets) == ["ai_ready.order_features"]
    assert customers["publish_ai_ready"].ai_ready is None, "customer_features is published with customer_360"
    assert customers["publish_ai_ready"].published_by == "atlas_gold_customer_360"
    for dag in (dagbag.dags["atlas_orders"], dagbag.dags["atlas_customers"]):
        assert dag.task_dict["publish_ai_ready"].trigger_rule == "none_failed", "runs after a skipped build_gold"


@pytest.mark.parametrize(("dag_id", "model"), CROSS_TABLE.items())
def test_cross_table_dag_waits_for_every_input_per_date(dagbag, dag_id, model):
    from airflow.sdk import PartitionedAssetTimetable, StartOfDayMapper
    from airflow.sdk.definitions.asset import AssetAll

    dag = dagbag.dags[dag_id]
    inputs = model_tables(model).inputs
    assert inputs == ("silver.customers", "silver.orders")
    timetable = dag.timetable
    assert isinstance(timetable, PartitionedAssetTimetable)
    assert isinstance(timetable.asset_condition, AssetAll)
    assert sorted(_names(timetable.asset_condition.objects)) == list(inputs)
    mapper = timetable.default_partition_mapper
    assert isinstance(mapper, StartOfDayMapper) and mapper.input_format == "%Y-%m-%d"
    assert [t.task_id for t in dag.topological_sort()] == list(CROSS_TABLE_STAGES)
    build, publish = dag.task_dict["build_gold"], dag.task_dict["publish_ai_ready"]
    assert build.models == [model] and sorted(build.input_specs) == ["customers", "orders"]
    assert (_names(build.inlets), _names(build.outlets)) == (list(inputs), [f"gold.{model}"])
    assert (_names(publish.inlets), _names(publish.outlets)) == ([f"gold.{model}"], ["ai_ready.customer_features"])
    assert sorted(publish.input_specs) == ["customers", "orders"], "guarded with every input table's policy"
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert {"atlas", "gold", "table:customers", "table:orders"} <= set(dag.tags)
    for task in dag.tasks:
        assert task.retries >= 2 and task.owner == "crm-data-team", task.task_id
        assert task.execution_timeout is not None, task.task_id


def test_cross_table_dag_serializes_as_partitioned(dagbag):
    """What the scheduler sees: a partitioned timetable over both silver assets."""
    from airflow.serialization.serialized_objects import DagSerialization

    serialized = DagSerialization.serialize_dag(dagbag.dags["atlas_gold_customer_360"])
    dag = DagSerialization.deserialize_dag(serialized)
    assert dag.timetable.partitioned is True
    assert dag.timetable.get_partition_mapper(name="silver.orders").to_downstream("2026-11-20") == "2026-11-20"
    assert dag.timetable.get_partition_mapper(name="silver.orders").to_partition_date("2026-11-20").day == 20
    edges = {(d["source"], d["label"], d["target"]) for d in serialized["dag_dependencies"]}
    assert edges == {("asset", "silver.customers", "atlas_gold_customer_360"),
                     ("asset", "silver.orders", "atlas_gold_customer_360"),
                     ("atlas_gold_customer_360", "gold.customer_360", "asset"),
                     ("atlas_gold_customer_360", "ai_ready.customer_features", "asset")}


def test_misplaced_models_break_only_their_own_dag():
    specs = load_valid_specs(settings.tables_dir())
    wrong = dict(specs, customers=specs["customers"].model_copy(
        update={"gold": GoldSpec(models=("customer_360", "order_facts"))}))
    plan = plan_gold(wrong)
    assert set(plan.errors) == {"atlas_customers"}
    error = str(plan.errors["atlas_customers"])
    assert "order_facts" in error and "silver.orders" in error
    assert "customer_360" in plan.cross_table and plan.tables["orders"].models

    alone = plan_gold({"orders": specs["orders"]})
    assert "input table 'customers' has no config" in str(alone.errors["atlas_gold_customer_360"])
    assert alone.tables["orders"].feeds == ("atlas_gold_customer_360",)


def test_broken_config_breaks_only_its_own_dag(tmp_path: Path, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    for name in ("defaults.yml", "customers.yml"):
        shutil.copy(settings.tables_dir() / name, tmp_path / name)
    broken = (settings.tables_dir() / "orders.yml").read_text().replace("format: csv", "format: xml", 1)
    (tmp_path / "orders.yml").write_text(broken)
    monkeypatch.setenv("ATLAS_TABLES_DIR", str(tmp_path))
    monkeypatch.setenv("ATLAS_STRICT_CONFIG", "0")
    bag = DagBag(dag_folder=str(DAGS))
    assert "atlas_customers" in bag.dag_ids and set(OWN_DAGS) <= set(bag.dag_ids)
    assert "atlas_orders" not in bag.dag_ids
    assert "atlas_gold_customer_360" not in bag.dag_ids, "a cross-table model cannot run without its input"
    (error,) = bag.import_errors.values()
    assert "orders.yml" in error and "source.format" in error

    monkeypatch.setenv("ATLAS_STRICT_CONFIG", "1")
    strict_bag = DagBag(dag_folder=str(DAGS))
    assert strict_bag.dag_ids == []
    assert "orders.yml" in next(iter(strict_bag.import_errors.values()))


def test_dag_file_parses_without_io_beyond_yaml(monkeypatch):
    """Parsing must not touch the warehouse: make any connection attempt explode."""
    import psycopg2

    from atlas.factory import build_dags
    from atlas.maintenance.dags import build_dags as build_own_dags

    def refuse(*args, **kwargs):
        raise AssertionError("DAG parsing opened a database connection")

    monkeypatch.setattr(psycopg2, "connect", refuse)
    assert set(build_dags(strict=True)) == {f"atlas_{t}" for t in _table_names()} | set(CROSS_TABLE)
    assert sorted(build_own_dags(strict=True)) == OWN_DAGS


def test_execution_timeouts_grow_with_the_configured_size():
    from datetime import timedelta

    from atlas.timeouts import execution_timeout

    small, large = execution_timeout("build_silver", 10_000), execution_timeout("build_silver", 5_000_000)
    assert timedelta(minutes=10) <= small < large
    assert execution_timeout("wait_for_source", 5_000_000) == execution_timeout("wait_for_source", 1)
