"""Warehouse resolution: a configured connection wins; otherwise the embedded PostgreSQL."""

from __future__ import annotations

import pytest

from atlas.warehouse import conn_params, connect, embedded, resolve_dsn
from atlas.warehouse.bootstrap import SCHEMAS


def test_embedded_warehouse_is_real_postgres_with_all_schemas(warehouse_dsn, wh_conn):
    with wh_conn.cursor() as cur:
        cur.execute("SELECT current_setting('server_version_num')::int")
        assert cur.fetchone()[0] >= 150000
        cur.execute("SELECT schema_name FROM information_schema.schemata")
        assert set(SCHEMAS) <= {r[0] for r in cur.fetchall()}


def test_configured_connection_wins(warehouse_dsn, monkeypatch, tmp_path):
    params = conn_params(warehouse_dsn)
    uri = f"postgres://{params['user']}@{params['host'].replace('/', '%2F')}:{params['port']}/{params['dbname']}"
    monkeypatch.setenv("AIRFLOW_CONN_ATLAS_WAREHOUSE", uri)
    monkeypatch.setenv("ATLAS_HOME", str(tmp_path))  # an embedded server here would be a different one
    dsn = resolve_dsn()
    assert not (tmp_path / "warehouse").exists(), "no embedded server started when one is configured"
    conn = connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT current_database()")
        assert cur.fetchone()[0] == params["dbname"]
    conn.close()


def test_embedded_start_is_idempotent_and_stops(tmp_path):
    data_dir = tmp_path / "pg"
    first = embedded.ensure_running(data_dir)
    assert embedded.ensure_running(data_dir) == first
    assert embedded.is_running(data_dir)
    embedded.stop(data_dir)
    assert not embedded.is_running(data_dir)


def test_hook_honours_a_configured_connection_id(warehouse_dsn, wh_conn, monkeypatch):
    """An operator's warehouse_conn_id is used as given: another database on the same server here."""
    from psycopg2 import sql

    from atlas.hooks.warehouse import WarehouseHook
    from atlas.operators.base import AtlasOperator
    from tests.dag_probe import probe_spec

    wh_conn.rollback()
    wh_conn.autocommit = True
    with wh_conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = 'atlas_other'")
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier("atlas_other")))
    params = conn_params(warehouse_dsn)
    uri = f"postgres://{params['user']}@{params['host'].replace('/', '%2F')}:{params['port']}/atlas_other"
    monkeypatch.setenv("AIRFLOW_CONN_OTHER_WAREHOUSE", uri)

    operator = AtlasOperator(task_id="probe", spec=probe_spec("hook_probe"), warehouse_conn_id="other_warehouse")
    assert isinstance(operator.warehouse, WarehouseHook)
    conn = operator.warehouse.get_conn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_database(), current_setting('lock_timeout')")
            assert cur.fetchone() == ("atlas_other", "2min")
            cur.execute("SELECT count(*) FROM information_schema.schemata WHERE schema_name = ANY(%s)",
                        (list(SCHEMAS),))
            assert cur.fetchone()[0] == len(SCHEMAS), "the warehouse is bootstrapped where the conn id points"
    finally:
        conn.close()
    assert operator.warehouse.dsn.split("?")[0].endswith("/atlas_other")
    assert operator.warehouse.lineage_name("silver.t") == "atlas_other.silver.t"

    monkeypatch.delenv("AIRFLOW_CONN_OTHER_WAREHOUSE")
    with pytest.raises(Exception, match="other_warehouse"):  # never a silent fallback to another server
        WarehouseHook(warehouse_conn_id="other_warehouse").get_conn()
