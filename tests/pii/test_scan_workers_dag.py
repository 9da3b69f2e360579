"""A real DAG run whose free-text scan goes through the worker processes chunk after chunk.

A probe table with a notes column lands 3,000 rows; ``stage_silver`` reads them in chunks of
600, so the free-text scan hands the workers three batches per chunk, fifteen in all, from one
pool created once for the task. The run must finish, join its workers, and leave no raw value of
the table's structured PII columns in silver (the leak guard checks it too): the notes quote
other rows' names and phones in other formats, which only the known-value dictionary catches.
"""

from __future__ import annotations

import json
import os
import sqlite3
from functools import partial
from pathlib import Path

import pytest

from atlas.config import TableSpec
from tests.dag_probe import drop_probe_tables, isolate_airflow_plugins, land, probe_dag, run

pytestmark = pytest.mark.slow

DS = "2031-03-01"
ROWS = 3_000
CHUNK_ROWS = 600
FIRST = ["Anders", "Mette", "Zoë", "Bøje", "Ruth", "Lars", "Agneta", "Jens-Peter", "Sofie", "Malik"]
LAST = ["Jensen", "Hansen", "Krüger", "Kjeldsen-Lassen", "Baker", "Nielsen", "Nyberg", "Holm", "Berg", "Aziz"]


def _person(i: int) -> tuple[str, str]:
    name = f"{FIRST[i % 10]} {LAST[(i // 10) % 10]}"
    phone = f"+45{20000000 + i * 37:08d}"
    return name, phone


def _rows() -> str:
    lines = ["customer_id,customer_name,phone_number,notes"]
    for i in range(ROWS):
        name, phone = _person(i)
        other_name, other_phone = _person((i * 7 + 3) % ROWS)
        local = other_phone[3:]
        note = (f"Case {i}: called {other_name} instead of the customer; their number "
                f"{local[:2]} {local[2:4]} {local[4:6]} {local[6:]} was on file. Ticket T{i:06d}.")
        lines.append(f'SWP{i:06d},"{name}",{phone},"{note}"')
    return "\n".join(lines) + "\n"


def _spec() -> TableSpec:
    return TableSpec.model_validate({
        "table": "scan_workers_probe", "owner": "data-platform", "retries": 2, "retry_delay_seconds": 1,
        "source": {"path": "scan_workers_probe/{{ ds }}/*.csv", "format": "csv", "poke_interval_seconds": 1},
        "schema": {"primary_key": ["customer_id"], "columns": [
            {"name": "customer_id", "required": True}, {"name": "customer_name"},
            {"name": "phone_number"}, {"name": "notes"}]},
        "pii": {"columns": {
            "customer_id": {"strategy": "pseudonymize"},
            "customer_name": {"strategy": "pseudonymize", "entity": "PERSON"},
            "phone_number": {"strategy": "pseudonymize", "entity": "PHONE_NUMBER"},
            "notes": {"strategy": "replace", "free_text": True},
        }},
    })


def _record_pool_workers(monkeypatch) -> list:
    """The worker processes of every scan pool the task creates, seen as each pool closes (the
    real pool runs; the test only looks at its processes afterwards)."""
    import atlas.pii.scanner as scanner

    seen: list = []

    class RecordingPool(scanner.ScanPool):
        def close(self) -> None:
            if self._executor is not None:
                seen.extend(self._executor._processes.values())
            super().close()

    monkeypatch.setattr(scanner, "ScanPool", RecordingPool)
    return seen


def test_many_chunks_through_the_worker_pool_in_a_real_run(airflow_db, warehouse_dsn, tmp_path, monkeypatch,
                                                           wh_conn):
    import atlas.silver.build as silver_build

    isolate_airflow_plugins(monkeypatch, tmp_path)
    monkeypatch.setenv("ATLAS_PII_N_PROCESS", "2")
    monkeypatch.setattr(silver_build, "stage_partition", partial(silver_build.stage_partition, chunk_rows=CHUNK_ROWS))
    spec = _spec()
    land(spec, DS, _rows())
    workers = _record_pool_workers(monkeypatch)

    state, tis = run(probe_dag(spec, tmp_path, tasks=["wait_for_source", "ingest_bronze", "detect_pii",
                                                      "build_silver"]), DS)

    assert state == "success", {task: ti.state for task, ti in tis.items()}
    assert len(workers) == 2, "one pool of two workers for the whole task"
    assert all(not w.is_alive() and w.exitcode == 0 for w in workers), "workers closed and joined"
    query = ("SELECT value FROM xcom WHERE dag_id = ? AND task_id = 'build_silver' AND key = 'return_value' "
             "ORDER BY timestamp DESC LIMIT 1")
    with sqlite3.connect(Path(os.environ["AIRFLOW_HOME"]) / "airflow.db") as db:
        (value,) = db.execute(query, (f"atlas_{spec.table}",)).fetchone()
    summary = json.loads(value)
    scan = summary["pii_scan"]
    assert summary["silver_rows"] == ROWS
    assert scan["scanned"] == ROWS and scan["parallel_batches"] == (ROWS // CHUNK_ROWS) * 3
    assert scan["workers"] == 2 and scan["known_value_spans"] >= 2 * ROWS

    names = {_person(i)[0] for i in range(ROWS)}
    phones = {_person(i)[1] for i in range(ROWS)}
    grouped = {" ".join(p[3:][k : k + 2] for k in range(0, 8, 2)) for p in phones}
    with wh_conn.cursor() as cur:
        cur.execute(f"SELECT customer_name, phone_number, notes FROM silver.{spec.table} "
                    "WHERE _atlas_logical_date = %s", (DS,))
        rows = cur.fetchall()
    leaked = sum(1 for name, phone, note in rows
                 if name in names or phone in phones or any(v in note for v in names | grouped))
    assert leaked == 0, f"{leaked} silver rows still hold raw names or phones"
    assert all("<PERSON>" in note and "<PHONE_NUMBER>" in note for _, _, note in rows)


@pytest.fixture(autouse=True)
def _drop_probe_tables(wh_conn):
    """The probe's tables leave the shared warehouse when the test ends."""
    yield
    drop_probe_tables(wh_conn, "scan_workers_probe")
