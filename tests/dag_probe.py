"""Run the first two stages of a real table DAG with ``dag.test()`` (alert and retry tests).

A probe table is a small customer-like spec with its own name and landing path, so runs never
touch the real tables' bronze slices. Its DAG comes from the real factory (callbacks, retry
policy) and is written to the metadata DB the way the DAG processor would.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from atlas import settings
from atlas.config import TableSpec

PROBE_TASKS = ["wait_for_source", "ingest_bronze"]


def probe_spec(table: str, **update: Any) -> TableSpec:
    """A small customer-like table landing under ``<table>/<ds>/``: 3 retries, 1 s apart at first."""
    return TableSpec.model_validate({
        "table": table, "owner": "data-platform", "retries": 3, "retry_delay_seconds": 1,
        "max_retry_delay_seconds": 4,
        "source": {"path": f"{table}/{{{{ ds }}}}/*.csv", "format": "csv", "poke_interval_seconds": 1},
        "schema": {"primary_key": ["customer_id"], "columns": [
            {"name": "customer_id", "required": True}, {"name": "customer_name"},
            {"name": "email_address", "format": "email"}, {"name": "created_at", "type": "timestamp"}]},
        **update,
    })


def good_csv(spec: TableSpec, customer_id: str = "C000001") -> str:
    """A one-row file with every configured column (content unique per table and id)."""
    values = {"customer_id": customer_id, "customer_name": f"Probe {spec.table}",
              "created_at": "2030-12-31 10:00:00"}
    names = spec.table_schema.column_names
    return ",".join(names) + "\n" + ",".join(values.get(c, "") for c in names) + "\n"


def land(spec: TableSpec, ds: str, text: str) -> Path:
    folder = Path(settings.landing_url().removeprefix("file://")) / spec.table / ds
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "extract.csv"
    path.write_text(text, encoding="utf-8")
    return path


def probe_dag(spec: TableSpec, tmp_path: Path, tasks: list[str] | None = PROBE_TASKS) -> Any:
    """The factory's DAG (by default only wait_for_source → ingest_bronze; ``tasks=None``: all
    seven stages), registered in the metadata DB."""
    from atlas.factory import build_dag

    dag = build_dag(spec, Path(f"{spec.table}.yml"))
    if tasks is not None:
        dag = dag.partial_subset(task_ids=tasks, include_downstream=False)
    return register(dag, tmp_path)


def cross_table_dags(specs: Mapping[str, TableSpec], tmp_path: Path) -> list[Any]:
    """The factory's cross-table gold DAGs (``atlas_gold_<model>``) for ``specs``, registered in the
    metadata DB. Tests that need their outputs run them for a date after the tables; how Airflow
    itself starts them from the tables' asset events is tests/test_assets.py's subject."""
    from atlas.factory import build_cross_table_dag
    from atlas.gold_plan import plan_gold

    return [register(build_cross_table_dag(model), tmp_path) for model in plan_gold(specs).cross_table.values()]


def register(dag: Any, tmp_path: Path) -> Any:
    """Write ``dag`` to the metadata DB the way the DAG processor would."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    empty = tmp_path / "dags"
    empty.mkdir(exist_ok=True)
    bag = DagBag(dag_folder=str(empty))
    bag.bag_dag(dag)
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)
    return dag


def run(dag: Any, ds: str, conf: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """Run the DAG for ``ds``; the run's state and its task instances by task id."""
    run_ = dag.test(logical_date=datetime.fromisoformat(ds).replace(tzinfo=UTC), run_conf=conf)
    return str(run_.state), {ti.task_id: ti for ti in run_.get_task_instances()}


def try_history(dag_id: str, task_id: str) -> list[Any]:
    """Earlier tries of a task (Airflow's task_instance_history), oldest first."""
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(TaskInstanceHistory).where(
            TaskInstanceHistory.dag_id == dag_id, TaskInstanceHistory.task_id == task_id,
        ).order_by(TaskInstanceHistory.try_number)).all()
        session.expunge_all()
    return list(rows)


def isolate_airflow_plugins(monkeypatch: Any, tmp_path: Path) -> None:
    """Point Airflow's plugin loader at an empty folder: it would exec every module of plugins/atlas
    (docker-compose.yaml gives it a folder of its own for the same reason)."""
    from airflow import settings as airflow_settings

    folder = tmp_path / "airflow-plugins"
    folder.mkdir(exist_ok=True)
    monkeypatch.setattr(airflow_settings, "PLUGINS_FOLDER", str(folder))


def drop_probe_tables(conn: Any, table: str) -> None:
    """Drop a probe table's bronze, silver and quarantine tables from the shared warehouse."""
    conn.rollback()
    with conn.cursor() as cur:
        for schema in ("bronze", "silver", "quarantine"):
            cur.execute(f"DROP TABLE IF EXISTS {schema}.{table}")
    conn.commit()
