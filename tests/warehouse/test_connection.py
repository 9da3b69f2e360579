"""Warehouse resolution: a configured connection wins; otherwise the embedded PostgreSQL."""

from __future__ import annotations

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
