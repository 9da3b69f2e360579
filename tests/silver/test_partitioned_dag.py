"""The partitioned silver build in real DAG runs: plan → one mapped stage task per partition → publish.

A probe table with ``silver.partition_rows: 4`` lands 12 rows: three partitions, with a key
duplicated across the first and the last one and a bad email to quarantine. Three runs:

1. the partitioned build reconciles and equals the one-process, unpartitioned build of the same
   date (run afterwards, it also shows a rerun replacing the slice);
2. another date, with the second partition's stage task failing once after it has staged its
   rows: only that partition is retried, and silver holds each key once;
3. the first date again, with a raw customer id of the first partition planted in an ordinary
   column of the last one: the publish's guard, which sees every partition, fails the run and
   readers keep the previous slice; the leaky staging is dropped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from atlas.config import TableSpec
from tests.dag_probe import drop_probe_tables, isolate_airflow_plugins, land, probe_dag

pytestmark = pytest.mark.slow

TABLE = "partition_probe"
FIRST, SECOND = "2031-04-01", "2031-04-02"
HEADER = "customer_id,customer_name,email_address,segment,created_at\n"
TASKS = ["wait_for_source", "ingest_bronze", "detect_pii", "build_silver"]


def _spec() -> TableSpec:
    return TableSpec.model_validate({
        "table": TABLE, "owner": "data-platform", "retries": 2, "retry_delay_seconds": 1,
        "source": {"path": f"{TABLE}/{{{{ ds }}}}/*.csv", "format": "csv", "poke_interval_seconds": 1},
        "schema": {"primary_key": ["customer_id"], "columns": [
            {"name": "customer_id", "required": True, "pattern": r"^C\d{6}$"}, {"name": "customer_name"},
            {"name": "email_address", "format": "email"}, {"name": "segment"},
            {"name": "created_at", "type": "timestamp", "required": True}]},
        "pii": {"columns": {"customer_id": {"strategy": "pseudonymize"},
                            "customer_name": {"strategy": "pseudonymize", "entity": "PERSON"},
                            "email_address": {"strategy": "pseudonymize", "entity": "EMAIL_ADDRESS"}}},
        "silver": {"partition_rows": 4},
        "alerts": {"email": [], "slack_conn_id": None},
    })


def _row(n: int, segment: str = "retail", email: str | None = None) -> str:
    return f"C{n:06d},Kunde Nummer{n},{email or f'kunde{n}@example.dk'},{segment},2031-03-01 10:00:00\n"


def _file(segment_of_11th: str = "wholesale") -> str:
    """Twelve rows, three partitions of four: C000402 again in the last one (it wins), C000411's
    email is invalid (quarantined)."""
    rows = [_row(n) for n in range(401, 411)]
    rows.append(_row(402, segment=segment_of_11th))
    rows.append(_row(411, email="not-an-email"))
    return HEADER + "".join(rows)


def _query(conn: Any, sql: str, *params: Any) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    conn.commit()
    return rows


def _slice(conn: Any, ds: str) -> tuple[list[tuple], list[tuple]]:
    """The date's silver and quarantine rows (without run ids and load times)."""
    silver = _query(conn, f"SELECT customer_id, customer_name, email_address, segment, created_at, "
                          f"_atlas_source_file, _atlas_row_number FROM silver.{TABLE} "
                          "WHERE _atlas_logical_date = %s ORDER BY 1", ds)
    quarantine = _query(conn, f"SELECT customer_id, email_address, _atlas_reason, _atlas_row_number "
                              f"FROM quarantine.{TABLE} WHERE _atlas_logical_date = %s "
                              "AND _atlas_stage = 'silver' ORDER BY 4", ds)
    return silver, quarantine


def _staging(conn: Any) -> list[tuple]:
    return _query(conn, "SELECT tablename FROM pg_tables WHERE schemaname = 'atlas_stage' "
                        "AND starts_with(tablename, %s)", f"{TABLE}__")


def _run(dag: Any, ds: str) -> Any:
    return dag.test(logical_date=datetime.fromisoformat(ds).replace(tzinfo=UTC))


def _tries(run: Any, task_id: str) -> dict[int, int]:
    """map index -> try number of a task's instances in the run."""
    return {ti.map_index: ti.try_number for ti in run.get_task_instances() if ti.task_id == task_id}


def test_partitioned_silver_reconciles_retries_one_partition_and_fails_closed(
        airflow_db, warehouse_dsn, wh_conn, tmp_path, monkeypatch):
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from atlas.operators.silver import FAULT_ENV
    from atlas.reprocess import reprocess

    isolate_airflow_plugins(monkeypatch, tmp_path)
    spec = _spec()
    dag = probe_dag(spec, tmp_path, tasks=TASKS)
    failures: list[tuple[str, str]] = []
    dag.task_dict["build_silver"].on_failure_callback = [
        lambda context: failures.append((type(context["exception"]).__name__, str(context["exception"])))]

    # 1. three partitions, published together
    land(spec, FIRST, _file())
    first = _run(dag, FIRST)
    assert str(first.state) == "success", {ti.task_id: ti.state for ti in first.get_task_instances()}
    assert _tries(first, "stage_silver") == {0: 1, 1: 1, 2: 1}, "one stage task per partition"
    partitioned = _slice(wh_conn, FIRST)
    silver, quarantine = partitioned
    assert [r[0].startswith("ps_") for r in silver] == [True] * 10, "ten customers, pseudonymized"
    assert len({r[0] for r in silver}) == 10
    [(segment,)] = [(r[3],) for r in silver if r[6] == 12]  # C000402's last version (file row 12)
    assert segment == "wholesale", "the later row of a key duplicated across partitions wins"
    assert [(q[2], q[3]) for q in quarantine] == [("email_address: not an email address", 13)]
    metrics = dict(_query(wh_conn, "SELECT metric, value FROM atlas_meta.run_metrics WHERE table_name = %s "
                                   "AND stage = 'silver' AND logical_date = %s", TABLE, FIRST))
    assert (metrics["bronze_rows"], metrics["silver_rows"], metrics["quarantined_rows"],
            metrics["duplicates_removed"]) == (12, 10, 1, 1)
    assert not _staging(wh_conn), "the publish drops every partition's staging"

    # the one-process build of the same date (one partition) gives the same slice, and replaces it
    result = reprocess(wh_conn, spec, FIRST, "unpartitioned")
    assert (result.silver_before, result.silver_after) == (10, 10)
    same = _slice(wh_conn, FIRST) == partitioned
    assert same, "the partitioned and the unpartitioned build differ"
    assert _query(wh_conn, f"SELECT DISTINCT _atlas_run_id FROM silver.{TABLE} WHERE _atlas_logical_date = %s",
                  FIRST) == [("unpartitioned",)]

    # 2. the second partition fails once after staging its rows: retried alone, no duplicates
    land(spec, SECOND, _file(segment_of_11th="vip"))  # another file: the same content would be skipped
    monkeypatch.setenv(FAULT_ENV, f"{TABLE}:1")
    second = _run(dag, SECOND)
    monkeypatch.delenv(FAULT_ENV)
    assert str(second.state) == "success", {ti.task_id: ti.state for ti in second.get_task_instances()}
    assert _tries(second, "stage_silver") == {0: 1, 1: 2, 2: 1}, "only the failed partition ran again"
    with create_session() as session:
        earlier = session.scalars(select(TaskInstanceHistory.map_index).where(
            TaskInstanceHistory.dag_id == dag.dag_id, TaskInstanceHistory.run_id == second.run_id,
            TaskInstanceHistory.task_id == "stage_silver")).all()
    assert list(earlier) == [1], "one earlier try, of the second partition"
    rows = _query(wh_conn, f"SELECT _atlas_logical_date::text, count(*), count(DISTINCT customer_id) "
                           f"FROM silver.{TABLE} GROUP BY 1")
    assert rows == [(SECOND, 10, 10)], "each key once, at its newest date (the first date's versions superseded)"
    retried, _ = _slice(wh_conn, SECOND)
    same_rows = [(*r[:3], r[4], r[6]) for r in retried] == [(*r[:3], r[4], r[6]) for r in partitioned[0]]
    assert same_rows, "the retried build differs from the first date's"
    assert [r[3] for r in retried if r[6] == 12] == ["vip"]

    # 3. the first date again with a raw id (first partition) in the last partition's segment column
    before = _slice(wh_conn, SECOND), _slice(wh_conn, FIRST)
    land(spec, FIRST, _file(segment_of_11th="C000401"))
    third = _run(dag, FIRST)
    states = {(ti.task_id, ti.map_index): str(ti.state) for ti in third.get_task_instances()}
    assert str(third.state) == "failed" and states[("build_silver", -1)] == "failed", states
    [(kind, message)] = failures
    assert kind == "AtlasPiiLeakError"
    assert f"silver.{TABLE}.segment has 1 raw value(s) of bronze.{TABLE}.customer_id" in message
    assert "C000401" not in message, "the error must not quote values"
    same_after = (_slice(wh_conn, SECOND), _slice(wh_conn, FIRST)) == before
    assert same_after, "after the failed publish, readers see something else than the previous slice"
    assert not _staging(wh_conn), "staging that leaked is dropped"


@pytest.fixture(autouse=True)
def _drop_probe_tables(wh_conn):
    """The probe's tables leave the shared warehouse when the test ends."""
    yield
    drop_probe_tables(wh_conn, TABLE)
