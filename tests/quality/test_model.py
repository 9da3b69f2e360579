"""Reports without a database: scores, the gate, the log table, Soda outcome mapping."""

from __future__ import annotations

import pytest

from atlas.errors import AtlasQualityGateError
from atlas.quality import CheckResult, QualityReport
from atlas.quality.offline import sanitize
from atlas.quality.results import measured_value, outcome_of


def result(name, dimension="validity", severity="fail", outcome="pass", measured=0.0, threshold="= 0"):
    return CheckResult("orders", "silver", name, dimension, severity, outcome, measured, threshold)


def report(*results) -> QualityReport:
    return QualityReport("orders", "silver", list(results), run_id="r1")


def test_scores_are_pass_rates_per_dimension_and_overall():
    rep = report(result("a"), result("b", outcome="fail", measured=3), result("c", "completeness"),
                 result("d", "timeliness", "warn", "warn", 30.0))
    assert rep.scores == {"completeness": 100.0, "validity": 50.0, "timeliness": 0.0}
    assert rep.overall == 50.0


def test_gate_lists_every_failed_check_with_measured_value_and_threshold():
    rep = report(result("ok"), result("status_allowed_values", outcome="fail", measured=3),
                 result("order_id_unique", "uniqueness", outcome="fail", measured=1),
                 result("schema_columns_present", "consistency", outcome="error", measured=None),
                 result("order_date_fresh", "timeliness", "warn", "warn", 30.5, "age < 1d"))
    assert [r.name for r in rep.failed] == ["status_allowed_values", "order_id_unique", "schema_columns_present"]
    assert [r.name for r in rep.warned] == ["order_date_fresh"]
    with pytest.raises(AtlasQualityGateError) as exc:
        rep.raise_for_failures()
    message = str(exc.value)
    assert "orders.status_allowed_values [validity] fail: measured 3 (threshold = 0)" in message
    assert "orders.order_id_unique [uniqueness] fail: measured 1 (threshold = 0)" in message
    assert "orders.schema_columns_present [consistency] error: measured -" in message
    assert "order_date_fresh" not in message


def test_warnings_alone_do_not_raise():
    rep = report(result("ok"), result("fresh", "timeliness", "warn", "warn", 30.0))
    rep.raise_for_failures()
    assert rep.passed and rep.summary()["warned"] == ["fresh"]


def test_format_table_shows_every_check_failures_first():
    rep = report(result("zeta"), result("alpha_fails", outcome="fail", measured=2.5),
                 result("fresh", "timeliness", "warn", "warn", 30.25, "age < 1d"))
    lines = rep.format_table().splitlines()
    assert lines[1].split() == ["dataset", "check", "dimension", "severity", "outcome", "measured", "threshold"]
    assert lines[3].split()[:6] == ["orders", "alpha_fails", "validity", "fail", "FAIL", "2.5"]
    assert lines[4].split()[:6] == ["orders", "fresh", "timeliness", "warn", "WARN", "30.25"]
    assert "zeta" in lines[5]
    assert "overall 33.3" in rep.format_table()


def test_as_record_is_plain_data():
    record = result("a", measured=1.0).as_record()
    assert record["name"] == "a" and record["measured_value"] == 1.0 and record["severity"] == "fail"


@pytest.mark.parametrize("soda, severity, expected", [
    ("pass", "fail", "pass"), ("fail", "fail", "fail"), ("fail", "warn", "warn"),
    ("warn", "fail", "warn"), (None, "fail", "error"), (None, "warn", "error"),
])
def test_outcome_is_capped_by_severity(soda, severity, expected):
    assert outcome_of(soda, severity) == expected


def test_measured_values_from_soda_diagnostics():
    assert measured_value({"value": 4}) == 4.0
    assert measured_value({"measure": "time", "value": 5_400_000, "maxColumnTimestamp": "x"}) == 1.5
    assert measured_value({"measure": "time", "value": 0, "maxColumnTimestamp": None}) is None
    assert measured_value({"missing_column_names": ["a", "b"], "column_type_mismatches": {"c": {}}}) == 3.0


def test_sanitize_keeps_identifiers_and_drops_values():
    assert sanitize('relation "silver.orders" does not exist\nLINE 1', set()) == \
        'relation "silver.orders" does not exist'
    assert sanitize('invalid input syntax for type integer: "4111 1111 1111 1111"', set()) == \
        'invalid input syntax for type integer: "…"'
    assert sanitize("Metrics 'row_count' were not computed for check 'x = 1'", {"row_count"}) == \
        "Metrics 'row_count' were not computed for check '…'"
