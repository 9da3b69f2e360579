"""atlas_maintenance and atlas_erasure: structure, settings, and the erasure params checked the
way Airflow checks a trigger's conf (a bad one is the REST API's 400, no run is created)."""

from __future__ import annotations

from typing import Any

import pytest

from atlas import settings
from atlas.config import load_valid_specs
from atlas.maintenance.dags import build_dags


@pytest.fixture(scope="module")
def dags() -> dict[str, Any]:
    return build_dags(strict=True)


@pytest.fixture(scope="module")
def specs() -> dict[str, Any]:
    return load_valid_specs(settings.tables_dir())


def test_maintenance_dag_purges_every_table_daily(dags, specs):
    dag = dags["atlas_maintenance"]
    assert dag.timetable.expression == "0 0 * * *"
    assert dag.catchup is False and dag.max_active_runs == 1
    assert {"atlas", "maintenance"} <= set(dag.tags)
    assert sorted(t.task_id for t in dag.tasks) == sorted(f"purge_{t}" for t in specs)
    assert all(not t.upstream_task_ids for t in dag.tasks), "tables are purged independently"
    assert "| customers | 90 d | 90 d | 365 d | 730 d | 365 d |" in dag.doc_md


def test_erasure_dag_is_triggered_only(dags):
    dag = dags["atlas_erasure"]
    assert type(dag.timetable).__name__ == "NullTimetable", "schedule=None: runs only when triggered"
    assert dag.max_active_runs == 1
    assert [t.task_id for t in dag.tasks] == ["erase_subject"]
    assert [type(n).__name__ for n in dag.task_dict["erase_subject"].on_failure_callback] == ["SlackAlert"]


@pytest.mark.parametrize("dag_id", ["atlas_maintenance", "atlas_erasure"])
def test_every_task_has_a_timeout_retries_and_an_owner(dags, dag_id):
    for task in dags[dag_id].tasks:
        assert task.execution_timeout is not None and task.execution_timeout.total_seconds() > 0, task.task_id
        assert task.retries >= 2 and task.retry_exponential_backoff >= 2
        assert task.owner != "airflow"
        assert type(task).__module__.startswith("atlas.")


def _validate(dag: Any, conf: dict[str, Any]) -> dict[str, Any]:
    """What create_dagrun does with a trigger's conf (the REST API answers 400 on its error)."""
    from airflow.serialization.serialized_objects import DagSerialization

    serialized = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    return serialized.params.deep_merge(conf).validate()


GOOD = {"table": "customers", "key_column": "customer_id", "key_value": "C000123"}


def test_a_valid_request_passes_the_param_schema(dags):
    params = _validate(dags["atlas_erasure"], GOOD)
    assert {k: params[k] for k in GOOD} == GOOD


@pytest.mark.parametrize("conf", [
    {**GOOD, "table": "payroll"},
    {**GOOD, "key_column": "cpr_number"},  # redacted in silver: not a key erasure can match
    {**GOOD, "key_column": "no_such_column"},
    {**GOOD, "key_value": ""},
    {**GOOD, "key_value": "C0001\n23"},
    {**GOOD, "key_value": "x" * 257},
    {**GOOD, "key_value": 123},
    {"table": "customers", "key_column": "customer_id"},  # no key value
    {**GOOD, "_openlineage_emission_policy": {"emit": True}},  # lineage would carry the raw key
])
def test_bad_requests_are_refused_at_trigger_time(dags, conf):
    from airflow.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        _validate(dags["atlas_erasure"], conf)


def test_erasure_events_are_switched_off_for_openlineage(dags):
    from airflow.providers.openlineage.utils.emission_policy import (
        resolve_dag_emission_policy,
        resolve_task_emission_policy,
    )

    dag = dags["atlas_erasure"]
    assert resolve_dag_emission_policy(dag.dag_id, dag).emit is False
    task = dag.task_dict["erase_subject"]
    assert resolve_task_emission_policy(task, dag.dag_id, task.task_id).emit is False
