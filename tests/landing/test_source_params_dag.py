"""Run params through the real DAG (wait_for_source → ingest_bronze): params are data, sources stay
under the landing root, an explicitly named file must exist, paths take every Airflow macro, and
the ingest loads exactly what the sensor found. One logical date per case."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from airflow.sdk.exceptions import ParamValidationError

from atlas import settings
from tests.dag_probe import good_csv, isolate_airflow_plugins, land, probe_dag, probe_spec, run

pytestmark = pytest.mark.slow
QUIET = {"email": [], "slack_conn_id": None}


@pytest.fixture
def dag_env(airflow_db, warehouse_dsn, tmp_path, monkeypatch):
    isolate_airflow_plugins(monkeypatch, tmp_path)
    return warehouse_dsn


def _archived(table: str, ds: str) -> list[Path]:
    folder = Path(settings.lake_url().removeprefix("file://")) / "bronze" / table / f"ingest_date={ds}"
    return sorted(folder.iterdir()) if folder.exists() else []


def _bronze_files(conn, table: str, ds: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (f"bronze.{table}",))
        if cur.fetchone()[0] is None:
            return []
        cur.execute(f"SELECT DISTINCT _atlas_source_file FROM bronze.{table} WHERE _atlas_logical_date = %s", (ds,))
        return sorted(row[0] for row in cur.fetchall())


def test_hostile_source_params_are_refused_before_anything_is_read(dag_env, tmp_path, wh_conn):
    spec = probe_spec("param_guard_probe", alerts=QUIET, source={
        "path": "param_guard_probe/{{ ds }}/*.csv", "poke_interval_seconds": 1, "timeout_seconds": 60})
    dag = probe_dag(spec, tmp_path)
    outside = tmp_path / "outside" / "secret.csv"
    outside.parent.mkdir()
    outside.write_text(good_csv(spec, "C000901"))

    # a Jinja payload: refused when the run is created (400 over REST); nothing rendered or executed
    marker = tmp_path / "executed"
    payload = "{{cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read()}}x/{{ds}}/*.csv"
    with pytest.raises(ParamValidationError, match="Invalid input for param source_file"):
        run(dag, "2031-03-01", conf={"source_file": payload})
    assert not marker.exists()

    cases = {
        "2031-03-02": {"source_file": "file:///etc/passwd"},
        "2031-03-03": {"source_file": f"file://{outside}"},
        "2031-03-04": {"source_file": ""},  # the configured path finds a symlink pointing out of the root
        "2031-03-05": {"source_file": "param_guard_probe/2031-03-05/missing.csv"},  # named, not there
    }
    link = land(spec, "2031-03-04", "").with_name("link.csv")
    link.parent.joinpath("extract.csv").unlink()
    os.symlink(outside, link)
    for ds, conf in cases.items():
        state, tis = run(dag, ds, conf=conf)
        sensor = tis["wait_for_source"]
        assert state == "failed", ds
        assert (sensor.state, sensor.try_number) == ("failed", 1), f"{ds}: fails at once, no waiting"
        assert tis["ingest_bronze"].state == "upstream_failed", ds
        assert _archived(spec.table, ds) == [], f"{ds}: nothing was copied into the lake"
        assert _bronze_files(wh_conn, spec.table, ds) == []


def test_paths_take_airflow_macros_and_the_ingest_reads_what_the_sensor_found(dag_env, tmp_path, wh_conn):
    spec = probe_spec("macro_probe", alerts=QUIET, source={
        "path": "macro_probe/{{ macros.ds_add(ds, -1) }}/*.csv", "poke_interval_seconds": 1,
        "timeout_seconds": 60})
    dag = probe_dag(spec, tmp_path)
    first = land(spec, "2031-04-01", good_csv(spec, "C000911"))  # the day before the run's date
    late = first.with_name("late.csv")

    def land_late_file(context):  # lands after the sensor saw the folder, before the ingest runs
        late.write_text(good_csv(spec, "C000912"))

    dag.task_dict["wait_for_source"].on_success_callback = [land_late_file]
    state, tis = run(dag, "2031-04-02", conf={"source_file": "", "full_refresh": False})

    assert state == "success"
    seen = tis["wait_for_source"].xcom_pull(task_ids="wait_for_source")
    assert seen == [f"file://{first}"]
    assert late.exists()
    assert _bronze_files(wh_conn, spec.table, "2031-04-02") == [f"file://{first}"], "the late file waits"

    # full_refresh is a templated argument: the same content for another date is ingested again
    land(spec, "2031-04-02", good_csv(spec, "C000911"))
    state, tis = run(dag, "2031-04-03", conf={"full_refresh": True})
    assert state == "success" and tis["ingest_bronze"].state == "success"
    assert len(_bronze_files(wh_conn, spec.table, "2031-04-03")) == 1
