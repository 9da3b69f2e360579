"""End to end: both table DAGs and the cross-table gold DAG run through Airflow on sample data
against the real warehouse (the gold DAG with ``airflow dags test`` for the date once both tables
are in; ``tests/test_assets.py`` has Airflow's scheduler start it from the asset events).

Asserts reconciliation, that no raw PII value from bronze reaches silver, gold, AI-ready,
task logs, XCom or lineage events, gold and AI-ready contents, and an idempotent rerun.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from atlas import settings
from atlas.config import load_valid_specs

pytestmark = pytest.mark.slow

DS = "2026-11-20"
CUSTOMERS, ORDERS = 2_000, 8_000


GOLD_DAG = "atlas_gold_customer_360"


def _airflow_dags_test(dag_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "airflow", "dags", "test", dag_id, DS],
                          capture_output=True, text=True, timeout=600, env=dict(os.environ))


def _rows(conn, sql, *params):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


@pytest.fixture(scope="module")
def pipeline(airflow_db, warehouse_dsn):
    """Land sample data and run both DAGs with `airflow dags test`; keep their output."""
    from atlas import sample_data

    summary = sample_data.generate(settings.landing_url().removeprefix("file://"), DS,
                                   customers=CUSTOMERS, orders=ORDERS, seed=7)
    runs = {table: _airflow_dags_test(f"atlas_{table}") for table in ("customers", "orders")}
    runs["customer_360"] = _airflow_dags_test(GOLD_DAG)
    return {"summary": summary, "runs": runs}


@pytest.fixture(scope="module")
def conn(pipeline, warehouse_dsn):
    from atlas.warehouse import connect

    connection = connect(warehouse_dsn)
    connection.autocommit = True  # hold no read locks between queries: reruns swap tables
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def specs():
    return load_valid_specs(settings.tables_dir())


@pytest.fixture(scope="module")
def raw_pii(conn, specs) -> dict[str, set[str]]:
    """Every distinct raw bronze value of each protected column (kept in memory, never printed)."""
    values: dict[str, set[str]] = {}
    for table, spec in specs.items():
        for column, policy in spec.pii.columns.items():
            if policy.strategy in ("keep", "generalize") or policy.free_text:
                continue  # free text: only PII spans are replaced; generalized: checked separately
            found = _rows(conn, f'SELECT DISTINCT "{column}" FROM bronze.{table} '
                                "WHERE _atlas_logical_date = %s AND length(\"" + column + '") >= 4', DS)
            values[f"{table}.{column}"] = {v for (v,) in found}
    return values


def test_both_dags_succeed(pipeline):
    for name, run in pipeline["runs"].items():
        assert run.returncode == 0, f"{name} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
        assert "state=success" in (run.stdout + run.stderr) or "success" in (run.stdout + run.stderr)


def test_counts_reconcile(conn, specs, pipeline):
    summary = pipeline["summary"]
    for table in specs:
        bronze = _rows(conn, f"SELECT count(*) FROM bronze.{table} WHERE _atlas_logical_date = %s", DS)[0][0]
        silver = _rows(conn, f"SELECT count(*) FROM silver.{table} WHERE _atlas_logical_date = %s", DS)[0][0]
        quarantined = _rows(conn, f"SELECT count(*) FROM quarantine.{table} WHERE _atlas_logical_date = %s "
                                  "AND _atlas_stage = 'silver'", DS)[0][0]
        metrics = dict(_rows(conn, "SELECT metric, value FROM atlas_meta.run_metrics WHERE table_name = %s "
                                   "AND stage = 'silver' AND logical_date = %s", table, DS))
        assert bronze == silver + quarantined + metrics["duplicates_removed"] + metrics["superseded_rows"]
        assert (metrics["silver_rows"], metrics["quarantined_rows"]) == (silver, quarantined)
        assert silver > 0.8 * bronze
    assert _rows(conn, "SELECT count(*) FROM bronze.customers WHERE _atlas_logical_date = %s", DS)[0][0] == \
        summary.customer_rows
    dupes = _rows(conn, "SELECT value FROM atlas_meta.run_metrics WHERE table_name = 'customers' "
                        "AND metric = 'duplicates_removed' AND logical_date = %s", DS)[0][0]
    # a duplicate whose copies break a rule is quarantined instead, and a row breaking two rules
    # is quarantined under its first: the generator's counts are upper bounds, closely met
    assert 0.9 * summary.duplicate_customer_ids <= dupes <= summary.duplicate_customer_ids
    negative = _rows(conn, "SELECT count(*) FROM quarantine.orders WHERE _atlas_rule = 'order_amount.range' "
                           "AND _atlas_logical_date = %s", DS)[0][0]
    assert 0.9 * summary.negative_amounts <= negative <= summary.negative_amounts


def test_no_raw_pii_downstream(conn, raw_pii):
    """Set-based: no distinct raw value of a protected bronze column in any text column downstream."""
    targets = _rows(conn, "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                          "WHERE table_schema IN ('silver', 'gold', 'ai_ready', 'quarantine') "
                          "AND data_type IN ('text', 'character varying')")
    all_values = sorted(set().union(*raw_pii.values()))
    assert len(all_values) > 1000
    leaks = []
    for schema, table, column in targets:
        hits = _rows(conn, f'SELECT count(*) FROM {schema}."{table}" WHERE "{column}" = ANY(%s)', all_values)[0][0]
        if hits:
            leaks.append(f"{schema}.{table}.{column}: {hits}")
    assert leaks == []


def test_free_text_keeps_text_but_loses_pii_spans(conn, pipeline):
    import re

    notes = [n for (n,) in _rows(conn, "SELECT notes FROM silver.customers WHERE notes IS NOT NULL")]
    assert len(notes) > 100
    email = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
    cpr = re.compile(r"\b\d{6}-?\d{4}\b")
    assert sum(1 for n in notes if email.search(n)) == 0
    assert sum(1 for n in notes if cpr.search(n)) == 0
    assert sum(1 for n in notes if "<EMAIL_ADDRESS>" in n) > 0, "spans replaced with entity tags"
    assert sum(1 for n in notes if "<" not in n) > 0, "notes without PII keep their text"


def test_generalized_columns_are_coarse(conn):
    values = _rows(conn, "SELECT count(*), count(*) FILTER (WHERE date_of_birth ~ '^[0-9]{4}$'), "
                         "count(date_of_birth), count(*) FILTER (WHERE postal_code ~ '^[0-9A-Z]{2}[*]+$'), "
                         "count(postal_code) FROM silver.customers")[0]
    assert values[1] == values[2] > 0, "date of birth generalized to the year"
    assert values[3] == values[4] > 0, "postal code generalized to its prefix"


def test_no_raw_pii_in_ai_ready_parquet(conn, raw_pii):
    import pyarrow.parquet as pq

    files = list(Path(settings.lake_url().removeprefix("file://"), "ai_ready").rglob("*.parquet"))
    assert files
    values = set().union(*raw_pii.values())
    for file in files:
        table = pq.read_table(file)
        for name in table.column_names:
            column = table.column(name)
            if str(column.type) in ("string", "large_string"):
                assert not values & set(column.to_pylist()), f"{file.name}:{name}"


def test_no_raw_pii_in_logs_xcom_or_lineage(pipeline, raw_pii):
    output = "".join(run.stdout + run.stderr for run in pipeline["runs"].values())
    lineage = (settings.atlas_home() / "lineage" / "openlineage.jsonl").read_text()
    xcom_db = Path(os.environ["AIRFLOW_HOME"]) / "airflow.db"
    with sqlite3.connect(xcom_db) as db:
        xcom = " ".join(str(v) for (v,) in db.execute("SELECT value FROM xcom"))
    assert xcom and lineage and output
    # Short values (e.g. "Jens") could appear in unrelated text; long ones are unambiguous.
    distinctive = {v for v in set().union(*raw_pii.values()) if len(v) >= 8}
    for where, text in (("task output", output), ("xcom", xcom), ("lineage", lineage)):
        leaked = sum(1 for v in distinctive if v in text)
        assert leaked == 0, f"{leaked} raw PII values found in {where}"


def test_pii_findings_audited_without_values(conn, raw_pii):
    findings = _rows(conn, "SELECT column_name, kind, entity_types, strategy, rows_scanned FROM "
                           "atlas_meta.pii_findings WHERE table_name = 'customers' AND logical_date = %s", DS)
    by_column = {f[0]: f for f in findings}
    assert by_column["email_address"][1] == "structured" and "EMAIL_ADDRESS" in by_column["email_address"][2]
    assert by_column["notes"][1] == "free_text"
    assert by_column["customer_tier"][1] == "none"
    assert all(f[4] > 0 for f in findings)
    text = json.dumps([list(map(str, f)) for f in findings])
    assert not any(v in text for v in raw_pii["customers.email_address"])


def test_gold_contents(conn):
    silver_customers = _rows(conn, "SELECT count(*) FROM silver.customers")[0][0]
    assert _rows(conn, "SELECT count(*), count(DISTINCT customer_id) FROM gold.customer_360")[0] == (
        silver_customers, silver_customers)
    completed = _rows(conn, "SELECT coalesce(sum(order_amount), 0) FROM silver.orders o "
                            "JOIN silver.customers c USING (customer_id) WHERE o.status = 'completed'")[0][0]
    gold_total = _rows(conn, "SELECT sum(total_revenue) FROM gold.customer_360")[0][0]
    assert float(gold_total) == pytest.approx(float(completed), rel=1e-9)
    daily = _rows(conn, "SELECT sum(revenue) FROM gold.daily_revenue")[0][0]
    all_completed = _rows(conn, "SELECT sum(order_amount) FROM silver.orders WHERE status = 'completed'")[0][0]
    assert float(daily) == pytest.approx(float(all_completed), rel=1e-9)
    scores = _rows(conn, "SELECT min(rfm_recency), max(rfm_recency), count(DISTINCT rfm_segment) "
                         "FROM gold.customer_360 WHERE total_orders > 0")[0]
    assert scores[0] >= 1 and scores[1] <= 5 and scores[2] >= 3
    assert _rows(conn, "SELECT count(*) FROM gold.customer_360 WHERE customer_lifetime_value < 0")[0][0] == 0


def test_gold_rows_recorded_per_model_and_date(conn, specs):
    """build_gold records each model's row count for the date (atlas_meta.run_metrics, stage gold)."""
    recorded = dict(_rows(conn, "SELECT table_name, value::bigint FROM atlas_meta.run_metrics "
                                "WHERE stage = 'gold' AND metric = 'rows' AND logical_date = %s", DS))
    models = {m for spec in specs.values() for m in spec.gold.models}
    assert set(recorded) == models
    for model in models:
        assert recorded[model] == _rows(conn, f"SELECT count(*) FROM gold.{model}")[0][0] > 0


def test_ai_ready_outputs(conn, specs):
    for spec in specs.values():
        if spec.ai_ready is None:
            continue
        name = spec.ai_ready.name
        manifest_dir = Path(settings.lake_url().removeprefix("file://"), "ai_ready", name, f"version={DS}")
        manifest = json.loads((manifest_dir / "manifest.json").read_text())
        table_rows = _rows(conn, f"SELECT split, count(*) FROM ai_ready.{name} GROUP BY split")
        splits = {k: v for k, v in manifest["row_counts"].items() if k != "total"}
        assert dict(table_rows) == {k: v for k, v in splits.items() if v}
        source_rows = _rows(conn, f"SELECT count(*) FROM {spec.ai_ready.source}")[0][0]
        assert sum(splits.values()) == manifest["row_counts"]["total"] == source_rows
        columns = {c[0] for c in _rows(conn, "SELECT column_name FROM information_schema.columns "
                                             "WHERE table_schema = 'ai_ready' AND table_name = %s", name)}
        assert spec.ai_ready.key not in columns and "row_key" in columns


def test_idempotent_rerun_of_same_date(conn, specs, pipeline):
    def snapshot():
        counts = {}
        for table in specs:
            for schema in ("bronze", "silver", "quarantine"):
                counts[f"{schema}.{table}"] = _rows(conn, f"SELECT count(*) FROM {schema}.{table}")[0][0]
        for name in ("gold.customer_360", "gold.daily_revenue", "gold.order_facts", "ai_ready.customer_features"):
            counts[name] = _rows(conn, f"SELECT count(*) FROM {name}")[0][0]
        counts["pii_findings"] = _rows(conn, "SELECT count(*) FROM atlas_meta.pii_findings")[0][0]
        counts["quality_results"] = _rows(conn, "SELECT count(*) FROM atlas_meta.quality_results")[0][0]
        return counts

    before = snapshot()
    revenue_before = _rows(conn, "SELECT sum(total_revenue)::text FROM gold.customer_360")[0][0]
    for dag_id in ("atlas_orders", GOLD_DAG):
        rerun = _airflow_dags_test(dag_id)
        assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert snapshot() == before
    assert _rows(conn, "SELECT sum(total_revenue)::text FROM gold.customer_360")[0][0] == revenue_before
    assert _rows(conn, "SELECT count(*) - count(DISTINCT order_id) FROM silver.orders")[0][0] == 0


def test_warnings_are_recorded_but_do_not_stop_the_run(conn, pipeline):
    warned = _rows(conn, "SELECT check_name, measured_value FROM atlas_meta.quality_results "
                         "WHERE table_name = 'orders' AND logical_date = %s AND outcome = 'warn'", DS)
    assert any(name == "customer_id_exists_in_customers" and value > 0 for name, value in warned)
    assert pipeline["runs"]["orders"].returncode == 0
    assert _rows(conn, "SELECT count(*) FROM gold.daily_revenue")[0][0] > 0


def test_summary_shows_customer_features_built_from_that_days_orders(conn):
    """What the demo prints: customer_features has order features that vary and several RFM segments."""
    from atlas import report

    text = report.summary(conn, ("customers", "orders"), DS)
    section = text.split("AI-ready customer_features", 1)[1].split("\n\n", 1)[0]
    rows = {line.split()[0]: line.split()[1:] for line in section.splitlines()[1:] if line.strip()}
    for feature in ("total_orders", "total_revenue", "avg_order_value", "customer_lifetime_value"):
        mean, std = (float(v.replace(",", "")) for v in rows[feature][:2])
        assert mean > 0 and std > 0, feature
    assert int(rows["rfm_segment"][0].rstrip(":")) > 1
    assert "from gold.customer_360" in text.split("AI-ready customer_features", 1)[1].splitlines()[0]
