"""A real DAG run: a failed fail-severity quality check stops the run before gold, without retries."""

from __future__ import annotations

import pytest

from atlas import settings
from atlas.config import GoldSpec, load_table_spec
from tests.dag_probe import isolate_airflow_plugins, land, probe_dag, run

pytestmark = pytest.mark.slow

DS = "2026-11-05"
HEADER = "order_id,customer_id,order_date,order_amount,currency,status,payment_method,shipping_address\n"


def test_failed_check_stops_gold_and_names_the_check(airflow_db, warehouse_dsn, tmp_path, monkeypatch, wh_conn):
    isolate_airflow_plugins(monkeypatch, tmp_path)
    base = load_table_spec(settings.tables_dir() / "orders.yml", {"retries": 2})
    spec = base.model_copy(update={
        "table": "orders_gate", "retry_delay_seconds": 1,
        "source": base.source.model_copy(update={"path": "orders_gate/{{ ds }}/*.csv", "poke_interval_seconds": 1}),
        "quality": base.quality.model_copy(update={"checks": None}),
        "gold": GoldSpec(), "ai_ready": None,  # the orders models read silver.orders, not this probe's table
    })
    # every row has a negative amount: all quarantined, the silver slice is empty
    rows = "".join(f"O{i:08d},C{i:06d},2026-11-05T10:00:00,-{i}.00,DKK,completed,invoice,Street {i}\n"
                   for i in range(1, 6))
    land(spec, DS, HEADER + rows)
    state, tis = run(probe_dag(spec, tmp_path, tasks=None), DS)

    assert state == "failed"
    assert tis["build_silver"].state == "success"
    assert tis["check_quality"].state == "failed"
    assert tis["check_quality"].try_number == 1, "a failed gate fails fast, no retries burned"
    assert tis["build_gold"].state == "upstream_failed"
    assert tis["publish_ai_ready"].state == "upstream_failed"
    with wh_conn.cursor() as cur:
        cur.execute("SELECT check_name, outcome, measured_value FROM atlas_meta.quality_results "
                    "WHERE table_name = 'orders_gate' AND layer = 'silver' AND outcome = 'fail'")
        failed = cur.fetchall()
    assert any(name == "row_count" and value == 0 for name, _, value in failed)
