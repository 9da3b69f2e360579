"""Retries that mean something: a warehouse outage is retried with backoff and recovers; a malformed
file or a broken run parameter fails on the first try with its retries left."""

from __future__ import annotations

import errno
import os
import socket
from datetime import timedelta
from pathlib import Path

import psycopg2
import pytest
from airflow.sdk.definitions.retry_policy import RetryAction
from airflow.sdk.exceptions import AirflowException

from atlas.errors import (
    AtlasConfigError,
    AtlasDatabaseError,
    AtlasInputError,
    AtlasPiiLeakError,
    AtlasQualityGateError,
    AtlasReconciliationError,
    AtlasRowRuleError,
    AtlasSourceError,
    AtlasStorageError,
    AtlasTransientError,
)
from atlas.retry import AtlasRetryPolicy, classify, retry_policy
from atlas.warehouse.connection import ENV_CONN
from tests.dag_probe import good_csv, isolate_airflow_plugins, land, probe_dag, probe_spec, run, try_history


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens here once the socket is closed


def _refused_connection_error() -> psycopg2.OperationalError:
    try:
        psycopg2.connect(host="127.0.0.1", port=_closed_port(), dbname="atlas", user="atlas", connect_timeout=2)
    except psycopg2.OperationalError as exc:
        return exc
    raise AssertionError("a closed port accepted a connection")


# ----------------------------------------------------------------------------- classification


@pytest.mark.parametrize(("make", "kind"), [
    (_refused_connection_error, "transient"),
    (lambda: AtlasTransientError("OperationalError: connection to server at 127.0.0.1 failed: "
                                 "Connection refused"), "transient"),
    (lambda: psycopg2.errors.SerializationFailure("could not serialize access"), "transient"),
    (lambda: psycopg2.errors.DeadlockDetected("deadlock detected"), "transient"),
    (lambda: ConnectionResetError(errno.ECONNRESET, "reset"), "transient"),
    (lambda: TimeoutError("timed out"), "transient"),
    (lambda: OSError(errno.EHOSTUNREACH, "No route to host"), "transient"),
    (lambda: AtlasTransientError('OperationalError: FATAL:  password authentication failed for user "atlas"'),
     "permanent"),
    (lambda: AtlasInputError("a.csv: header is missing configured column(s) ['notes']"), "permanent"),
    (lambda: AtlasConfigError("orders.yml", "source.format", "bad"), "permanent"),
    (lambda: AtlasQualityGateError("2 fail-severity checks failed"), "permanent"),
    (lambda: psycopg2.errors.UndefinedTable("relation does not exist"), "permanent"),
    (lambda: UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "permanent"),
    (lambda: KeyError("customer_id"), "permanent"),
    (lambda: FileNotFoundError(errno.ENOENT, "missing"), "permanent"),
    (lambda: RuntimeError("something else"), "unknown"),
    (lambda: OSError(errno.ENOSPC, "No space left on device"), "unknown"),
])
def test_classify(make, kind):
    assert classify(make()) == kind


def _driver_error(cls: type[Exception], pgcode: str | None,
                  message: str = 'ERROR:  value "C000123" violates something') -> AtlasDatabaseError:
    with_code = type(cls.__name__, (cls,), {"pgcode": pgcode})  # as the driver raises it, SQLSTATE set
    return AtlasDatabaseError.from_driver(with_code(message))


@pytest.mark.parametrize(("error", "kind"), [
    (AtlasConfigError("orders.yml", "source", "bad"), "permanent"),
    (AtlasInputError("a.csv: row 3: bad"), "permanent"),
    (AtlasSourceError("param source_file refused"), "permanent"),
    (AtlasStorageError("cannot read s3://b"), "permanent"),
    (AtlasQualityGateError("1 check failed"), "permanent"),
    (AtlasRowRuleError("rule broken"), "permanent"),
    (AtlasReconciliationError("counts differ"), "permanent"),
    (AtlasPiiLeakError("silver.t.c has 1 raw value"), "permanent"),
    (AtlasTransientError("lock wait"), "transient"),
    (_driver_error(psycopg2.errors.SerializationFailure, "40001"), "transient"),
    (_driver_error(psycopg2.errors.DeadlockDetected, "40P01"), "transient"),
    (_driver_error(psycopg2.errors.LockNotAvailable, "55P03"), "transient"),
    (_driver_error(psycopg2.errors.AdminShutdown, "57P01",
                   "terminating connection due to administrator command"), "transient"),
    (_driver_error(psycopg2.errors.NumericValueOutOfRange, "22003"), "permanent"),
    (_driver_error(psycopg2.errors.UndefinedTable, "42P01"), "permanent"),
    (_driver_error(psycopg2.errors.UniqueViolation, "23505"), "permanent"),
])
def test_one_mapping_decides_for_every_error_class(error, kind):
    """Libraries raise plain Atlas errors; the policy alone decides retry or fail."""
    assert not isinstance(error, AirflowException)
    assert classify(error) == kind
    assert "C000123" not in str(error), "driver messages can quote row values"


def test_policy_decisions_and_exponential_backoff():
    policy = AtlasRetryPolicy(base_delay=timedelta(seconds=30), max_delay=timedelta(seconds=600))
    assert [policy.delay(n).total_seconds() for n in range(1, 8)] == [30, 60, 120, 240, 480, 600, 600]

    transient = policy.evaluate(_refused_connection_error(), try_number=2, max_tries=3)
    assert transient.action == RetryAction.RETRY and transient.retry_delay == timedelta(seconds=60)
    assert transient.reason == "transient OperationalError: retry after try 2 of 4 in 60s"
    permanent = policy.evaluate(KeyError("customer_id"), try_number=1, max_tries=3)
    assert permanent.action == RetryAction.FAIL and permanent.reason.startswith("permanent KeyError")
    assert policy.evaluate(RuntimeError("?"), try_number=1, max_tries=3).action == RetryAction.DEFAULT
    assert AtlasRetryPolicy.deserialize(policy.serialize()) == policy


def test_every_task_gets_the_policy_and_the_dag_still_serializes():
    from airflow.serialization.serialized_objects import DagSerialization

    from atlas.factory import build_dag

    spec = probe_spec("policy_probe", retry_delay_seconds=20, max_retry_delay_seconds=300)
    dag = build_dag(spec, Path("policy_probe.yml"))
    for task in dag.tasks:
        assert task.retry_policy == retry_policy(spec) == AtlasRetryPolicy(timedelta(seconds=20),
                                                                           timedelta(seconds=300))
    restored = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    assert all(task.has_retry_policy for task in restored.tasks)


# ----------------------------------------------------------------------------- real runs


@pytest.fixture
def dag_env(airflow_db, warehouse_dsn, tmp_path, monkeypatch):
    isolate_airflow_plugins(monkeypatch, tmp_path)
    return warehouse_dsn


@pytest.mark.slow
def test_warehouse_down_on_the_first_try_is_retried_and_recovers(dag_env, tmp_path, monkeypatch, wh_conn):
    spec = probe_spec("retry_probe", alerts={"email": [], "slack_conn_id": None})
    dag = probe_dag(spec, tmp_path)
    seen: list[tuple[int, str, str]] = []

    def warehouse_comes_back(context):
        seen.append((context["ti"].try_number, type(context["exception"]).__name__, str(context["exception"])))
        os.environ[ENV_CONN] = dag_env  # the real warehouse, from the next try on

    dag.task_dict["ingest_bronze"].on_retry_callback = [warehouse_comes_back]
    monkeypatch.setenv(ENV_CONN, f"postgresql://atlas:unused@127.0.0.1:{_closed_port()}/atlas?connect_timeout=2")
    land(spec, "2031-02-01", good_csv(spec, "C000101"))

    state, tis = run(dag, "2031-02-01")

    assert state == "success"
    ingest = tis["ingest_bronze"]
    assert (ingest.state, ingest.try_number, ingest.max_tries) == ("success", 2, 3)
    (try_1,) = seen
    assert try_1[:2] == (1, "AtlasDatabaseError") and "Connection refused" in try_1[2]
    (history,) = try_history(dag.dag_id, "ingest_bronze")
    assert (history.try_number, history.state) == (1, "failed")  # history keeps the try as failed
    assert history.retry_delay_override == 1.0  # the policy's first delay: retry_delay_seconds
    assert history.retry_reason == "transient AtlasDatabaseError: retry after try 1 of 4 in 1s"
    with wh_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM bronze.retry_probe WHERE _atlas_logical_date = %s", ("2031-02-01",))
        assert cur.fetchone()[0] == 1


@pytest.mark.slow
def test_malformed_file_fails_fast_with_retries_left(dag_env, tmp_path):
    spec = probe_spec("failfast_probe", alerts={"email": [], "slack_conn_id": None})
    dag = probe_dag(spec, tmp_path)
    retried: list[int] = []
    dag.task_dict["ingest_bronze"].on_retry_callback = [lambda context: retried.append(context["ti"].try_number)]
    land(spec, "2031-02-01", "customer_id,customer_name\nC000201,Probe\n")  # created_at, email missing

    state, tis = run(dag, "2031-02-01")

    assert state == "failed"
    ingest = tis["ingest_bronze"]
    assert (ingest.state, ingest.try_number, ingest.max_tries) == ("failed", 1, 3)
    assert retried == [] and try_history(dag.dag_id, "ingest_bronze") == []


@pytest.mark.slow
def test_bad_run_parameter_fails_fast_with_retries_left(dag_env, tmp_path):
    """A ``source_file`` outside the landing root is refused on the first try, before anything is
    opened; no retry is burned on it."""
    spec = probe_spec("param_probe", alerts={"email": [], "slack_conn_id": None})
    dag = probe_dag(spec, tmp_path)

    state, tis = run(dag, "2031-02-01", conf={"source_file": "file:///etc/passwd"})

    assert state == "failed"
    sensor = tis["wait_for_source"]
    assert (sensor.state, sensor.try_number, sensor.max_tries) == ("failed", 1, 3)
    assert tis["ingest_bronze"].state == "upstream_failed"
