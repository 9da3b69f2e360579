"""DAG integrity and structure: every table config yields a DAG with the seven stages in order."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from atlas import settings
from atlas.config import load_table_specs
from atlas.factory import STAGES

DAGS = settings.PROJECT_ROOT / "dags"
OWN_DAGS = ["atlas_erasure", "atlas_maintenance"]  # tests/maintenance/test_maintenance_dags.py


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def _table_names() -> list[str]:
    return [r.file.stem for r in load_table_specs(settings.tables_dir())]


def test_dag_file_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert sorted(dagbag.dag_ids) == sorted([f"atlas_{t}" for t in _table_names()] + OWN_DAGS)


@pytest.mark.parametrize("table", _table_names())
def test_tasks_in_stage_order(dagbag, table):
    dag = dagbag.dags[f"atlas_{table}"]
    assert [t.task_id for t in dag.topological_sort()] == list(STAGES)
    for upstream, downstream in itertools.pairwise(STAGES):
        assert dag.task_dict[upstream].downstream_task_ids == {downstream}


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
        assert type(task).__module__.startswith("atlas."), "every task is an Atlas operator"
        assert task.execution_timeout is not None, f"{task.task_id}: a hang must become a failed try"
    assert dag.task_dict["wait_for_source"].mode == "reschedule"


def test_schedule_is_daily_by_default(dagbag):
    for dag in (dagbag.dags[f"atlas_{t}"] for t in _table_names()):
        assert dag.timetable.expression == "0 0 * * *", dag.dag_id  # @daily


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
    assert set(build_dags(strict=True)) == {f"atlas_{t}" for t in _table_names()}
    assert sorted(build_own_dags(strict=True)) == OWN_DAGS


def test_execution_timeouts_grow_with_the_configured_size():
    from datetime import timedelta

    from atlas.timeouts import execution_timeout

    small, large = execution_timeout("build_silver", 10_000), execution_timeout("build_silver", 5_000_000)
    assert timedelta(minutes=10) <= small < large
    assert execution_timeout("wait_for_source", 5_000_000) == execution_timeout("wait_for_source", 1)
