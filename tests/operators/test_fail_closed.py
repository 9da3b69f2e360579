"""Fail closed: a leak guard that fires stops the publish before commit.

For silver (a real DAG run), gold and AI-ready a leak is planted, the run or build fails with a
message naming columns and counts, and a second connection sees the previous state both while
the guard is running (held at its start) and afterwards. Assert messages never show values.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from atlas.config import TableSpec
from atlas.errors import AtlasPiiLeakError
from atlas.pii.leaks import LeakSource
from tests.dag_probe import isolate_airflow_plugins, land, probe_dag, run

DS = "2031-03-01"


def _rows(conn: Any, sql: str, *params: Any) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    conn.commit()
    return rows


@contextmanager
def held_at(owner: Any, name: str, look: Callable[[], Any], reader: Any = None,
            monitor: Any = None) -> Iterator[list[Any]]:
    """Hold ``owner.name`` (the guard) at its start while a second thread runs ``look`` (a read
    on the ``reader`` connection) and records what it returns. The guard goes on once the read
    is done, or once ``monitor`` (a third connection) sees the read waiting for one of the
    writer's locks: it can then only complete after the writer commits or rolls back."""
    original = getattr(owner, name)
    seen: list[Any] = []
    arrived, done = threading.Event(), threading.Event()

    def blocked() -> bool:
        if reader is None or monitor is None:
            return False
        return bool(_rows(monitor, "SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted",
                          reader.get_backend_pid())[0][0])

    def held(*args: Any, **kwargs: Any) -> Any:
        arrived.set()
        for _ in range(2400):
            if done.wait(0.05) or blocked():
                break
        return original(*args, **kwargs)

    def read() -> None:
        try:
            if arrived.wait(600):
                seen.append(look())
        finally:
            done.set()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    setattr(owner, name, held)
    try:
        yield seen
    finally:
        setattr(owner, name, original)
        arrived.set()
        thread.join(60)


# ----------------------------------------------------------------------------- silver (real DAG run)

SILVER_TASKS = ["wait_for_source", "ingest_bronze", "detect_pii", "build_silver"]
HEADER = "customer_id,customer_name,email_address,segment,notes,created_at\n"


def _silver_spec() -> TableSpec:
    return TableSpec.model_validate({
        "table": "leak_probe", "owner": "data-platform", "retries": 2, "retry_delay_seconds": 1,
        # the repeated header of a six-record file is 17% malformed rows: allowed here
        "source": {"path": "leak_probe/{{ ds }}/*.csv", "format": "csv", "poke_interval_seconds": 1,
                   "max_malformed_ratio": 0.5},
        "schema": {"primary_key": ["customer_id"], "columns": [
            {"name": "customer_id", "required": True, "pattern": r"^C\d{6}$"}, {"name": "customer_name"},
            {"name": "email_address", "format": "email"}, {"name": "segment"}, {"name": "notes"},
            {"name": "created_at", "type": "timestamp", "required": True}]},
        "pii": {"columns": {"customer_id": {"strategy": "pseudonymize"},
                            "customer_name": {"strategy": "pseudonymize", "entity": "PERSON"},
                            "email_address": {"strategy": "pseudonymize", "entity": "EMAIL_ADDRESS"},
                            "notes": {"strategy": "replace", "free_text": True}}},
        "alerts": {"email": [], "slack_conn_id": None},
    })


def _customer(n: int, segment: str = "retail", email: str | None = None, notes: str = "Asked about delivery.") -> str:
    return (f"C{n:06d},Kunde Nummer{n},{email or f'kunde{n}@example.dk'},{segment},{notes},"
            "2031-02-01 10:00:00\n")


def _slices(conn: Any, table: str) -> tuple[list[tuple], list[tuple]]:
    silver = _rows(conn, f"SELECT customer_id, customer_name, email_address, segment, notes, _atlas_run_id "
                         f"FROM silver.{table} WHERE _atlas_logical_date = %s ORDER BY 1", DS)
    quarantine = _rows(conn, f"SELECT customer_id, email_address, segment, _atlas_reason, _atlas_run_id "
                             f"FROM quarantine.{table} WHERE _atlas_logical_date = %s "
                             "AND _atlas_stage = 'silver' ORDER BY 1", DS)
    return silver, quarantine


@pytest.mark.slow
def test_silver_leak_fails_the_run_and_readers_keep_the_previous_slice(
        airflow_db, warehouse_dsn, wh_conn, tmp_path, monkeypatch):
    from atlas.silver.staged_guard import StagedLeakCheck
    from atlas.warehouse import connect

    isolate_airflow_plugins(monkeypatch, tmp_path)
    spec = _silver_spec()
    dag = probe_dag(spec, tmp_path, tasks=SILVER_TASKS)
    failures: list[tuple[str, str]] = []
    dag.task_dict["build_silver"].on_failure_callback = [
        lambda context: failures.append((type(context["exception"]).__name__, str(context["exception"])))]

    # a good day: five customers, one quarantined for a bad email, and the header repeated
    # mid-file (concatenated exports): its values are column names, which are no evidence
    good = ("".join(_customer(n) for n in range(301, 304)) + HEADER + _customer(304)
            + _customer(305, email="not-an-email"))
    land(spec, DS, HEADER + good)
    state, _ = run(dag, DS)
    assert state == "success"
    before = _slices(wh_conn, spec.table)
    assert len(before[0]) == 4 and len(before[1]) >= 1

    # the same day again, with raw customer ids where no protection applies: one in an ordinary
    # column of a silver row, one in a quarantined row, one inside free text
    leaked = ["C000301", "C000302", "C000303"]
    rerun = (_customer(301, segment="wholesale") + _customer(302) + _customer(303)
             + _customer(304, segment=leaked[0], notes=f"Merged into account {leaked[2]} by support.")
             + _customer(305, segment=leaked[1], email="still-not-an-email") + _customer(306))
    land(spec, DS, HEADER + rerun)
    reader = connect(warehouse_dsn)
    try:
        with held_at(StagedLeakCheck, "raise_for_leaks", lambda: _slices(reader, spec.table)) as during:
            state, tis = run(dag, DS)
    finally:
        reader.close()

    assert state == "failed" and tis["build_silver"].state == "failed"
    assert tis["ingest_bronze"].state == "success"  # the new file did reach bronze
    [(kind, message)] = failures
    assert kind == "AtlasPiiLeakError"
    assert "silver.leak_probe.segment has 1 raw value(s) of bronze.leak_probe.customer_id" in message
    assert "quarantine.leak_probe.segment has 1 raw value(s) of bronze.leak_probe.customer_id" in message
    assert not any(value in message for value in leaked), "the error must not quote values"
    # compared as booleans: a failing assert must not print the rows
    same_during, same_after = during == [before], _slices(wh_conn, spec.table) == before
    assert same_during, "while the guard ran, a reader saw something else than the previous slice"
    assert same_after, "after the failed run, readers see something else than the previous slice"


# ----------------------------------------------------------------------------- gold (run_model)


@pytest.fixture
def private_schema(wh_conn, scratch_schema):
    name = scratch_schema
    with wh_conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {name}.bronze (customer_id text, email text, _atlas_logical_date date)")
        cur.executemany(f"INSERT INTO {name}.bronze VALUES (%s, %s, %s)",
                        [(f"C{n:06d}", f"person{n}@example.dk", DS) for n in range(1, 6)])
    wh_conn.commit()
    return name


def _model(schema: str, contact: str) -> str:
    """A gold model script shaped like include/sql/gold: build __next, swap, count."""
    return f"""
        DROP TABLE IF EXISTS {schema}.segments__next;
        CREATE TABLE {schema}.segments__next AS
            SELECT 'ps_' || md5(customer_id) AS customer_id, 'loyal'::text AS segment,
                   CASE WHEN customer_id = 'C000003' THEN {contact} ELSE 'n/a' END AS contact
            FROM {schema}.bronze;
        DROP TABLE IF EXISTS {schema}.segments;
        ALTER TABLE {schema}.segments__next RENAME TO segments;
        SELECT count(*) FROM {schema}.segments;"""


def test_gold_leak_rolls_back_the_swap_and_readers_keep_the_previous_table(wh_conn, warehouse_dsn, private_schema):
    from atlas import settings
    from atlas.config import load_table_spec
    from atlas.gold import run_model
    from atlas.operators import guards
    from atlas.warehouse import connect

    schema = private_schema
    spec = load_table_spec(settings.tables_dir() / "customers.yml", {"retries": 2})
    sources = [LeakSource(f"{schema}.bronze", ("customer_id", "email"), DS)]
    check = guards.output_guard(sources, spec, f"{schema}.segments")
    assert run_model(wh_conn, _model(schema, "'n/a'"), before_commit=check) == 5
    previous = _rows(wh_conn, f"SELECT * FROM {schema}.segments ORDER BY 1")

    reader, monitor = connect(warehouse_dsn), connect(warehouse_dsn)
    try:
        # the reader's SELECT waits for the swap's lock while the guard runs, then reads what
        # the rollback left: the previous table
        with held_at(guards, "guard_sources", lambda: _rows(reader, f"SELECT * FROM {schema}.segments ORDER BY 1"),
                     reader, monitor) as during:
            with pytest.raises(AtlasPiiLeakError) as info:
                run_model(wh_conn, _model(schema, f"(SELECT email FROM {schema}.bronze WHERE customer_id = 'C000002')"),
                          before_commit=guards.output_guard(sources, spec, f"{schema}.segments"))
    finally:
        reader.close()
        monitor.close()
    assert str(info.value) == (f"raw PII reached downstream tables: {schema}.segments.contact has 1 raw value(s) "
                               f"of {schema}.bronze.email")
    after = _rows(wh_conn, f"SELECT * FROM {schema}.segments ORDER BY 1")
    same_during, same_after = during == [previous], after == previous
    assert same_during, "while the guard ran, a reader saw something else than the previous table"
    assert same_after, "after the failed build, readers see something else than the previous table"
    assert not _rows(wh_conn, "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'segments__next'",
                     schema)


# ----------------------------------------------------------------------------- AI-ready (publish)


def test_ai_ready_leak_publishes_nothing(wh_conn, warehouse_dsn, private_schema, tmp_path):
    """A categorical column holding identifiers would list raw values in the manifest's
    vocabulary: the guard stops the publish before the lake, the table or the version row change."""
    from atlas import settings
    from atlas.ai_ready import publish_ai_ready, read_manifest
    from atlas.config import AiReadySpec, load_table_spec
    from atlas.operators import guards
    from atlas.warehouse import connect

    schema = private_schema
    name = f"fc_{schema[3:]}"
    with wh_conn.cursor() as cur:
        cur.execute(f"CREATE TABLE gold.{name} AS SELECT customer_id, length(email)::numeric AS score, "
                    f"'DK'::text AS country, email AS contact FROM {schema}.bronze")
    wh_conn.commit()
    spec = load_table_spec(settings.tables_dir() / "customers.yml", {"retries": 2})
    sources = [LeakSource(f"{schema}.bronze", ("customer_id", "email"), DS)]
    good = AiReadySpec(name=name, source=f"gold.{name}", key="customer_id", numeric=("score",),
                       categorical=("country",))
    lake = f"file://{tmp_path}"
    version_dir = tmp_path / "ai_ready" / name / f"version={DS}"

    def publish(ai_spec: AiReadySpec) -> Any:
        return publish_ai_ready(wh_conn, ai_spec, lake, b"k" * 32, "run", DS,
                                before_publish=guards.output_guard(sources, spec, f"ai_ready.{name}"))

    def state(conn: Any) -> tuple:
        table = _rows(conn, f"SELECT * FROM ai_ready.{name} ORDER BY row_key")
        versions = _rows(conn, "SELECT version, content_hash, row_count FROM atlas_meta.ai_ready_versions "
                               "WHERE dataset = %s", name)
        return table, versions, read_manifest(version_dir)

    try:
        first = publish(good)
        previous = state(wh_conn)
        assert previous[2] == first
        reader = connect(warehouse_dsn)
        try:
            with held_at(guards, "guard_sources", lambda: state(reader)) as during:
                with pytest.raises(AtlasPiiLeakError) as info:
                    publish(good.model_copy(update={"categorical": ("country", "contact")}))
        finally:
            reader.close()
        assert str(info.value) == (f"raw PII reached downstream tables: ai_ready.{name}.contact (vocabulary) "
                                   f"has 5 raw value(s) of {schema}.bronze.email")
        same_during, same_after = during == [previous], state(wh_conn) == previous
        assert same_during, "while the guard ran, a reader saw something else than the previous version"
        assert same_after, "after the failed publish, readers see something else than the previous version"
        assert not any(b"example.dk" in p.read_bytes() for p in version_dir.iterdir())
    finally:
        wh_conn.rollback()
        with wh_conn.cursor() as cur:
            for table in (f"gold.{name}", f"ai_ready.{name}", f"ai_ready.{name}__next"):
                cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute("DELETE FROM atlas_meta.ai_ready_versions WHERE dataset = %s", (name,))
        wh_conn.commit()
