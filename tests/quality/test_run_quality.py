"""run_quality on the real warehouse: each dimension's checks fail on violating data, pass on clean data."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from atlas.errors import AtlasQualityGateError
from atlas.quality import run_quality
from tests.quality.qdata import ALICE, DAY, clean_customers, clean_orders, not_passing, outcomes

STRANGER = "ps_" + "0" * 32


@pytest.fixture(autouse=True)
def clean_silver(wh):
    wh.silver("customers", clean_customers())
    wh.silver("orders", clean_orders())


def mutate(index: int, **changes):
    def apply(rows):
        rows[index] = {**rows[index], **changes}
        return rows
    return apply


def test_clean_data_passes_every_check(wh):
    for table in ("orders", "customers"):
        report = wh.run(table)
        assert not_passing(report) == {}, report.format_table()
        assert report.errors == []
        assert set(report.scores) == {"completeness", "uniqueness", "validity", "consistency", "timeliness",
                                      "accuracy"}
        assert report.overall == 100.0
        report.raise_for_failures()


# (dimension, how to break clean orders, the checks that must not pass and their outcome)
CASES = [
    ("completeness", mutate(0, customer_id=None), {"customer_id_not_missing": "fail"}),
    ("uniqueness", mutate(1, order_id="O00000001"), {"order_id_unique": "fail"}),
    ("validity", mutate(0, status="shipped"), {"status_allowed_values": "fail"}),
    ("validity", mutate(2, order_id="X-1"), {"order_id_matches_pattern": "fail"}),
    ("validity", mutate(0, customer_id="C000001"),
     {"customer_id_is_pseudonym": "fail", "customer_id_exists_in_customers": "warn"}),
    ("validity", mutate(1, customer_id="ps_0123abcd"), {"customer_id_is_pseudonym": "fail",
                                                       "customer_id_exists_in_customers": "warn"}),
    ("consistency", mutate(3, customer_id=STRANGER), {"customer_id_exists_in_customers": "warn"}),
    ("timeliness", lambda rows: [{**r, "order_date": f"{DAY - timedelta(days=3)} 10:00Z"} for r in rows],
     {"order_date_fresh": "warn"}),
    ("accuracy", mutate(1, order_amount="-5"), {"order_amount_in_range": "fail"}),
    ("accuracy", mutate(3, order_amount="0"), {"completed_orders_have_amount": "warn"}),
    ("accuracy", mutate(1, order_date=f"{DAY + timedelta(days=2)} 10:00Z"), {"order_date_not_in_future": "warn"}),
]


@pytest.mark.parametrize("dimension, breaks, expected", CASES, ids=[f"{c[0]}-{next(iter(c[2]))}" for c in CASES])
def test_each_dimension_fails_on_violating_data(wh, dimension, breaks, expected):
    wh.silver("orders", breaks(clean_orders()))
    report = wh.run("orders")
    assert not_passing(report) == expected, report.format_table()
    assert {r.dimension for r in report.results if r.name in expected} >= {dimension}
    assert report.scores[dimension] < 100.0
    broken = [r for r in report.results if r.name in expected]
    assert all(r.measured_value and r.measured_value > 0 for r in broken)


def test_format_checks_on_columns_kept_as_loaded(wh, specs):
    spec = specs["customers"].model_copy(update={"pii": specs["customers"].pii.model_copy(update={"columns": {}})})
    rows = [{"customer_id": f"C00000{i}", "customer_name": "x", "email_address": f"p{i}@example.dk",
             "phone_number": "+4512345678", "cpr_number": "010190-1234", "postal_code": "8000",
             "created_at": f"{DAY} 10:00Z", "customer_tier": "gold"} for i in range(3)]
    original = wh.specs["customers"]
    try:
        wh.specs["customers"] = spec
        wh.silver("customers", rows)
        assert not_passing(wh.run("customers", spec=spec)) == {}
        rows[0].update(email_address="p0.example.dk", phone_number="+45 1234", cpr_number="0101901234x")
        rows[1].update(customer_id="X1")
        wh.silver("customers", rows)
        assert not_passing(wh.run("customers", spec=spec)) == {
            "email_address_valid_email": "fail", "phone_number_valid_phone": "fail", "cpr_number_valid_cpr": "fail",
            "customer_id_matches_pattern": "fail"}
    finally:
        wh.specs["customers"] = original


@pytest.mark.parametrize("change, schema_failures", [
    ({"payment_method": ""}, {"schema_columns_present": 1, "schema_column_types": 1}),  # dropped column
    ({"order_amount": "text"}, {"schema_column_types": 1}),
])
def test_schema_drift_fails_schema_checks_and_the_gate(wh, change, schema_failures):
    wh.silver("orders", clean_orders(), **change)
    report = wh.run("orders")
    measured = {r.name: r.measured_value for r in report.results if r.outcome == "fail"}
    assert measured == schema_failures, report.format_table()
    # Soda computes the column metrics in one query per table: drift makes them errors, never passes.
    assert {r.outcome for r in report.results if r.name not in schema_failures} <= {"pass", "error"}
    assert report.errors and len(report.errors) <= 6
    with pytest.raises(AtlasQualityGateError, match="schema_column_types"):
        report.raise_for_failures()


def test_empty_day_fails_row_count(wh):
    report = wh.run("orders", day=DAY + timedelta(days=1))
    assert outcomes(report)["row_count"] == "fail"
    assert outcomes(report)["order_date_fresh"] == "warn"  # nothing loaded that day


def test_gate_names_every_failed_check_and_its_measured_value(wh):
    rows = clean_orders()
    rows[0].update(customer_id=None, status="shipped")
    rows[1].update(order_id="O00000003")
    rows[3].update(order_amount="-1")  # a completed order: also breaks the warn-severity amount rule
    wh.silver("orders", rows)
    report = wh.run("orders")
    expected = {"customer_id_not_missing", "status_allowed_values", "order_id_unique", "order_amount_in_range"}
    assert {r.name for r in report.failed} == expected
    with pytest.raises(AtlasQualityGateError) as exc:
        report.raise_for_failures()
    message = str(exc.value)
    for name in expected:
        assert f"orders.{name} [" in message
    assert "fail: measured 1 (threshold = 0)" in message
    assert "completed_orders_have_amount" not in message  # warn severity: reported, not blocking
    assert "completed_orders_have_amount" in {r.name for r in report.warned}


def test_warn_severity_failures_do_not_stop_the_run(wh):
    wh.silver("orders", mutate(3, customer_id=STRANGER)(clean_orders()))
    report = wh.run("orders")
    assert report.failed == [] and [r.name for r in report.warned] == ["customer_id_exists_in_customers"]
    report.raise_for_failures()  # does not raise
    assert "WARN" in report.format_table()


def test_results_and_scores_are_stored_and_replaced_on_rerun(wh):
    wh.silver("orders", mutate(0, status="shipped")(clean_orders()))
    first = wh.run("orders", run_id="run_1")
    second = wh.run("orders", run_id="run_2")
    rows = wh.fetch(
        "SELECT check_name, dimension, severity, outcome, measured_value, threshold, run_id"
        " FROM atlas_meta.quality_results WHERE table_name = 'orders' AND layer = 'silver' AND logical_date = %s",
        DAY,
    )
    assert len(rows) == len(first.results) == len(second.results)
    assert {r[6] for r in rows} == {"run_2"}
    stored = {r[0]: r[1:6] for r in rows}
    assert stored["status_allowed_values"] == ("validity", "fail", "fail", 1.0, "= 0")
    scores = dict(wh.fetch(
        "SELECT dimension, score FROM atlas_meta.quality_scores"
        " WHERE table_name = 'orders' AND layer = 'silver' AND logical_date = %s", DAY))
    assert scores["overall"] == second.overall and scores["validity"] == second.scores["validity"] < 100
    daily = dict(wh.fetch(
        "SELECT dimension, score FROM atlas_meta.quality_daily_scores WHERE table_name = 'orders' AND day = %s",
        DAY))
    assert daily["validity"] == pytest.approx(second.scores["validity"], abs=0.1)


def test_missing_table_errors_every_check_and_fails_the_gate(wh):
    with wh.conn.cursor() as cur:
        cur.execute(f"DROP TABLE {wh.schemas['silver']}.orders")
    wh.conn.commit()
    report = wh.run("orders")
    assert {r.outcome for r in report.results} == {"error"}
    assert any("does not exist" in e for e in report.errors)
    with pytest.raises(AtlasQualityGateError, match="row_count"):
        report.raise_for_failures()


def test_no_row_values_reach_logs_results_or_errors(wh, caplog, capsys):
    secret = "anna.secret@example.com"
    wh.silver("orders", mutate(0, status=secret, order_id=secret, currency=secret)(clean_orders()))
    with caplog.at_level(logging.DEBUG):
        report = wh.run("orders")
    assert {"status_allowed_values", "order_id_matches_pattern", "currency_allowed_values"} <= set(
        not_passing(report))
    stored = wh.fetch("SELECT t::text FROM atlas_meta.quality_results t WHERE logical_date = %s", DAY)
    out = capsys.readouterr()
    for text in (report.format_table(), str(report.summary()), caplog.text, out.out, out.err, str(stored),
                 *report.errors):
        assert secret not in text


def test_soda_runs_without_telemetry(wh):
    wh.run("orders")
    from soda.common.config_helper import ConfigHelper
    from soda.telemetry.soda_telemetry import SodaTelemetry

    assert ConfigHelper.get_instance().send_anonymous_usage_stats is False
    assert SodaTelemetry.get_instance()._SodaTelemetry__send is False


def test_real_layer_schemas_by_default(wh, warehouse_dsn, specs):
    """Without a schema mapping the scan reads schema `silver` (here: no orders table for that day)."""
    report = run_quality(warehouse_dsn, specs["orders"], "silver", "r", DAY + timedelta(days=30), store=False)
    assert outcomes(report)["row_count"] in {"fail", "error"}


def test_string_logical_date_and_alice_token_shape(wh):
    report = wh.run("customers", day=DAY.isoformat())
    assert report.logical_date == DAY and ALICE.startswith("ps_")


def test_scan_opens_no_network_connection(wh, monkeypatch):
    """Soda runs offline: no telemetry, no cloud; the warehouse here is reached over a unix socket."""
    import socket

    attempts = []
    real_connect = socket.socket.connect

    def guarded(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError("network disabled in this test")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: attempts.append(a) or guarded(None, a))
    report = wh.run("orders")
    assert attempts == [] and report.errors == [] and report.passed


def test_table_without_gold_models_has_nothing_to_check(wh, specs):
    spec = specs["orders"].model_copy(update={"gold": specs["orders"].gold.model_copy(update={"models": ()})})
    report = wh.run("orders", "gold", spec=spec)
    assert report.results == [] and report.passed and report.overall == 100.0


def test_kind_threshold_and_column_come_from_sodas_own_parse(wh, tmp_path, monkeypatch):
    """Soda parsed the check lines already: what a check measures, its threshold and its column
    are read from Soda's checks, never parsed again from SodaCL text."""
    import yaml

    from atlas.quality import sodacl

    (tmp_path / "silver").mkdir()
    (tmp_path / "silver" / "orders.yml").write_text(yaml.safe_dump({"checks for orders [atlas_slice]": [
        {"row_count between 1 and 10": {"name": "row_count", "attributes": {"dimension": "completeness"}}},
        {"max(order_amount)": {"name": "order_amount_sane", "warn": "when > 100000", "fail": "when > 1000000",
                               "attributes": {"dimension": "accuracy"}}},
    ]}))
    monkeypatch.setattr(sodacl, "soda_dir", lambda: tmp_path)
    wh.silver("orders", clean_orders())
    results = {r.name: r for r in wh.run("orders").results}
    assert (results["row_count"].kind, results["row_count"].threshold) == ("row_count", "between 1 and 10")
    assert (results["order_amount_sane"].kind, results["order_amount_sane"].threshold) == (
        "max", "warn when > 100000; fail when > 1000000")
    assert results["order_amount_sane"].outcome == "pass" and results["order_amount_sane"].measured_value == 100
    unique = results["order_id_unique"]
    assert (unique.kind, unique.threshold, unique.column) == ("duplicate_count", "= 0", "order_id")
    assert (results["order_date_fresh"].kind, results["order_date_fresh"].threshold) == ("freshness", "< 1d")
    assert results["schema_columns_present"].threshold == "no missing columns"  # Atlas's own wording
