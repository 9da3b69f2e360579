"""The page's parameter checks, warehouse reads and charts, without a server.

The reads run against the session's real PostgreSQL on ``atlas_meta`` and quarantine rows
written here for one logical date, inside a transaction that is rolled back.
"""

from __future__ import annotations

import json

import pytest

from atlas import settings
from atlas.config import load_valid_specs
from atlas.dashboard import charts, queries
from atlas.dashboard.app import json_for_script
from atlas.dashboard.params import BadRequest, parse_days, parse_ds, parse_section, parse_table
from atlas.dashboard.report import day_report, lineage_link

DS = "2031-03-14"
RUN = "manual__2031-03-14T00:00:00+00:00"


@pytest.fixture(scope="module")
def specs():
    return load_valid_specs(settings.tables_dir())


# ------------------------------------------------------------------ parameters


def test_dates_are_checked_and_named(specs) -> None:
    assert parse_ds("2026-02-28") == "2026-02-28"
    assert parse_ds("latest") is None and parse_ds("") is None and parse_ds(None) is None
    with pytest.raises(BadRequest, match=r"malformed date '2026-02-30': no such calendar day"):
        parse_ds("2026-02-30")
    with pytest.raises(BadRequest, match=r"expected YYYY-MM-DD or 'latest'"):
        parse_ds("2026-2-3")
    with pytest.raises(BadRequest) as hostile:
        parse_ds("x" * 500)
    assert len(str(hostile.value)) < 120, "a long value is shortened in the message"


def test_tables_sections_and_days_are_checked(specs) -> None:
    assert parse_table("orders", specs).table == "orders"
    assert parse_table(None, specs).table == min(specs), "no table: the first by name"
    with pytest.raises(BadRequest, match=r"unknown table 'orders;--' \(known: customers, orders\)"):
        parse_table("orders;--", specs)
    with pytest.raises(BadRequest, match="no tables are configured"):
        parse_table("orders", {})
    assert parse_days(None) == 14 and parse_days("365") == 365
    for bad in ("0", "367", "-1", "1.5", "ten"):
        with pytest.raises(BadRequest, match="malformed days"):
            parse_days(bad)
    assert parse_section("quality") == "quality"
    with pytest.raises(BadRequest, match="unknown section 'rows'"):
        parse_section("rows")


def test_json_in_a_script_element_cannot_close_it() -> None:
    text = json_for_script({"reason": "</script><script>alert(1)</script> & more"})
    assert "</script>" not in text and "<" not in text and "&" not in text
    assert json.loads(text) == {"reason": "</script><script>alert(1)</script> & more"}


def test_marquez_link_only_when_configured(specs, monkeypatch) -> None:
    monkeypatch.delenv("ATLAS_MARQUEZ_URL", raising=False)
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__NAMESPACE", "atlas")
    assert lineage_link(specs["orders"])["marquez_url"] is None
    monkeypatch.setenv("ATLAS_MARQUEZ_URL", "http://marquez.example:3000/")
    assert lineage_link(specs["orders"])["marquez_url"] == \
        "http://marquez.example:3000/lineage/job/atlas/atlas_orders.build_silver"
    monkeypatch.setenv("ATLAS_MARQUEZ_URL", "javascript:alert(1)")
    assert lineage_link(specs["orders"])["marquez_url"] is None, "only http(s) URLs become links"


# ------------------------------------------------------------------ reads on a real warehouse


def _execute(conn, sql: str, *params) -> None:
    with conn.cursor() as cur:
        cur.execute(sql, params)


@pytest.fixture
def recorded(wh_conn, specs):
    """One date of orders results in atlas_meta and quarantine (rolled back by wh_conn)."""
    from atlas.warehouse.tables import ensure_tables

    with wh_conn.cursor() as cur:
        ensure_tables(cur, specs["orders"])
    _execute(wh_conn, "INSERT INTO atlas_meta.ingested_files (table_name, source_checksum, source_file, "
                      "archive_path, logical_date, run_id, row_count, rejected_rows) "
                      "VALUES ('orders', 'c1', 'a.csv', 'lake/a.csv', %s, %s, 990, 10)", DS, RUN)
    for metric, value in {"bronze_rows": 990, "silver_rows": 950, "quarantined_rows": 25, "duplicates_removed": 5,
                          "superseded_rows": 10, "rule_violations:completed_orders_have_payment_method": 3}.items():
        _execute(wh_conn, "INSERT INTO atlas_meta.run_metrics (table_name, stage, metric, value, run_id, logical_date) "
                          "VALUES ('orders', 'silver', %s, %s, %s, %s)", metric, value, RUN, DS)
    _execute(wh_conn, "INSERT INTO atlas_meta.run_metrics (table_name, stage, metric, value, run_id, logical_date) "
                      "VALUES ('daily_revenue', 'gold', 'rows', 42, %s, %s)", RUN, DS)
    quarantine = [("bronze", "malformed_row", "expected 8 fields, found 7 (line 3)", 10),
                  ("silver", "order_amount.range", "order_amount: must be >= 0", 20),
                  ("silver", "amount_plausible", "order amount above 250,000 DKK", 5)]
    for stage, rule, reason, n in quarantine:
        _execute(wh_conn, "INSERT INTO quarantine.orders (_atlas_stage, _atlas_rule, _atlas_reason, _atlas_run_id, "
                          "_atlas_logical_date, _atlas_source_file, _atlas_row_number) "
                          "SELECT %s, %s, %s, %s, %s, 'a.csv', g FROM generate_series(1, %s) g",
                 stage, rule, reason, RUN, DS, n)
    _execute(wh_conn, "INSERT INTO atlas_meta.pii_findings (table_name, column_name, kind, entity_types, confidence, "
                      "hit_rate, rows_scanned, recognizers, strategy, policy_source, run_id, logical_date) VALUES "
                      "('orders', 'shipping_address', 'structured', '{LOCATION}', 0.9, 0.8, 500, '{location}', "
                      "'redact', 'config', %s, %s), ('orders', 'currency', 'none', '{}', 1, 0, 500, '{}', 'keep', "
                      "'none', %s, %s)", RUN, DS, RUN, DS)
    checks = [("silver", "orders", "order_id_unique", "uniqueness", "fail", "pass", 0),
              ("silver", "orders", "amount_fresh", "timeliness", "warn", "warn", 3.5),
              ("silver", "orders", "status_valid", "validity", "fail", "fail", 12),
              ("gold", "daily_revenue", "revenue_not_negative", "accuracy", "fail", "pass", 0)]
    for day, extra in ((DS, []), ("2031-03-13", [])):
        for layer, name, check, dim, severity, outcome, value in checks + extra:
            _execute(wh_conn, "INSERT INTO atlas_meta.quality_results (table_name, layer, check_name, dimension, "
                              "severity, outcome, measured_value, threshold, run_id, logical_date) "
                              "VALUES (%s, %s, %s, %s, %s, %s, %s, '= 0', %s, %s)",
                     name, layer, check, dim, severity, "pass" if day != DS else outcome, value, RUN, day)
    return wh_conn


def test_layers_reconcile_and_a_mismatch_is_shown(recorded) -> None:
    layers = queries.layers(recorded, "orders", DS)
    assert layers["rows"] == {"landed": 1000, "malformed": 10, "bronze": 990, "silver": 950, "quarantined": 25,
                              "duplicates": 5, "superseded": 10}
    assert layers["reconciliation"]["status"] == "reconciled"
    assert layers["rule_violations"] == {"completed_orders_have_payment_method": 3}
    _execute(recorded, "UPDATE atlas_meta.run_metrics SET value = 949 WHERE table_name = 'orders' "
                       "AND metric = 'silver_rows' AND logical_date = %s", DS)
    mismatch = queries.layers(recorded, "orders", DS)["reconciliation"]
    assert mismatch["status"] == "MISMATCH"
    assert [c["ok"] for c in mismatch["checks"]] == [True, False, True]
    assert queries.layers(recorded, "orders", "2031-03-15")["reconciliation"]["status"] == "not run"


def test_quarantine_reasons_largest_first(recorded) -> None:
    quarantine = queries.quarantine(recorded, "orders", DS)
    assert [(r["stage"], r["rule"], r["rows"]) for r in quarantine["reasons"]] == [
        ("silver", "order_amount.range", 20), ("bronze", "malformed_row", 10), ("silver", "amount_plausible", 5)]
    assert quarantine["total"] == 35 and quarantine["reprocess_command"] == f"python -m atlas.reprocess orders {DS}"
    capped = queries.quarantine(recorded, "orders", DS, limit=2)
    assert [r["rows"] for r in capped["reasons"]] == [20, 15] and capped["reasons"][1]["reason"] == "2 other reasons"


def test_pii_quality_and_outputs_of_the_day(recorded, specs) -> None:
    pii = queries.pii(recorded, specs["orders"], DS)
    assert [c["column"] for c in pii["columns"]] == ["shipping_address"]
    assert (pii["columns_scanned"], pii["columns_without_pii"]) == (2, 1)
    quality = queries.quality(recorded, specs["orders"], DS, 7)
    assert [(c["check"], c["outcome"], c["blocking"], c["measured_value"]) for c in quality["not_passed"]] == [
        ("status_valid", "fail", True, 12), ("amount_fresh", "warn", False, 3.5)]
    assert [(p["day"], p["score"]) for p in quality["trend"]["overall"]] == [("2031-03-13", 100.0), (DS, 33.3)]
    assert quality["day"]["validity"]["failed"] == 1 and quality["day"]["timeliness"]["warned"] == 1
    outputs = queries.outputs(recorded, specs["orders"], DS)
    assert {g["model"]: g["rows"] for g in outputs["gold"]} == {"customer_360": None, "daily_revenue": 42,
                                                                 "order_facts": None}
    assert queries.dates_with_data(recorded, "orders")[0] == DS


def test_charts_carry_the_figures(recorded, specs) -> None:
    doc = day_report(recorded, None, specs["orders"], DS, 7, sections=("layers", "quarantine", "quality"))
    figures = charts.figures(doc)
    assert set(figures) == {"chart-layers", "chart-quarantine", "chart-scores", "chart-trend"}
    assert figures["chart-layers"]["data"][0]["y"] == [1000, 10, 990, 950, 25, 5, 10]
    assert sorted(figures["chart-quarantine"]["data"][0]["x"]) == [5, 10, 20]
    trend = {t["name"]: t for t in figures["chart-trend"]["data"]}
    assert list(trend["overall"]["y"]) == [100.0, 33.3]
    assert figures["chart-trend"]["layout"]["xaxis"]["range"] == ["2031-03-07 12:00:00", "2031-03-14 12:00:00"]
    json.dumps(figures)  # plain JSON for the page
    empty = day_report(recorded, None, specs["orders"], "2031-04-30", 7, sections=("layers", "quarantine", "quality"))
    assert charts.figures(empty) == {}, "no data, no empty charts"


def test_make_ui_prints_the_page_url() -> None:
    from atlas.ui import banner

    text = banner(8080, "secret")
    assert "Atlas page: http://localhost:8080/plugin/atlas" in text
    assert "http://localhost:8080/atlas/api/v1/tables" in text and "login: admin / secret" in text
