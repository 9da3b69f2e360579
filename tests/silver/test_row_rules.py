"""Row rules (keep / drop / fail) and reprocessing quarantined rows once their cause is fixed."""

from __future__ import annotations

import pandas as pd
import pytest

from atlas import settings
from atlas.bronze.ingest import ingest
from atlas.config import RowRule, load_table_spec
from atlas.errors import AtlasRowRuleError
from atlas.pii.pseudonym import pseudonymize
from atlas.reprocess import reprocess
from atlas.silver.build import build_silver
from atlas.storage import resolve_source

KEY = b"r" * 32
HEADER = "order_id,customer_id,order_date,order_amount,currency,status,payment_method,shipping_address\n"
LINES = [
    "O00000001,C000001,2026-11-01T10:00:00,10.00,DKK,completed,invoice,Street 1\n",
    "O00000002,C000002,2026-11-01T11:00:00,250000.00,DKK,completed,,Street 2\n",   # huge, no payment
    "O00000003,C000003,2026-11-01T12:00:00,30.00,DKK,completed,,Street 3\n",       # no payment
    "O00000004,C000004,2026-11-01T13:00:00,40.00,DKK,on_hold,invoice,Street 4\n",  # unknown status
]
RULES = (
    RowRule(name="payment_known", expect="status <> 'completed' OR payment_method IS NOT NULL", action="keep"),
    RowRule(name="amount_plausible", expect="order_amount <= 100000", action="drop",
            reason="order amount above 100,000"),
)


def protect(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["customer_id"] = out["customer_id"].map(lambda v: None if v is None else pseudonymize(v, KEY))
    out["shipping_address"] = None
    return out


@pytest.fixture
def spec(tmp_path, monkeypatch, request):
    monkeypatch.setenv("ATLAS_LANDING_URL", f"file://{tmp_path / 'landing'}")
    monkeypatch.setenv("ATLAS_LAKE_URL", f"file://{tmp_path / 'lake'}")
    path = tmp_path / "landing" / "orders" / "2026-11-01" / "orders.csv"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER + "".join(LINES))
    base = load_table_spec(settings.tables_dir() / "orders.yml", {"retries": 2})
    return base.model_copy(update={"table": f"orders_rules_{request.node.name[5:25]}", "rules": RULES})


def _rows(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_keep_counts_drop_quarantines(wh_conn, spec):
    ingest(wh_conn, spec, resolve_source("orders/2026-11-01/*.csv"), "r", "2026-11-01")
    result = build_silver(wh_conn, spec, protect, "r", "2026-11-01")
    assert result.rule_violations == {"payment_known": 2, "amount_plausible": 1}
    assert result.reasons == {"order amount above 100,000": 1, "status: not one of the allowed values": 1}
    assert (result.silver_rows, result.quarantined_rows) == (2, 2)
    assert result.bronze_rows == result.silver_rows + result.quarantined_rows + result.duplicates_removed
    quarantined = _rows(wh_conn, f"SELECT _atlas_rule, _atlas_reason, customer_id FROM quarantine.{spec.table} "
                                 "WHERE _atlas_rule LIKE 'rule.%'")
    assert quarantined == [("rule.amount_plausible", "order amount above 100,000", pseudonymize("C000002", KEY))]
    metric = _rows(wh_conn, f"SELECT value FROM atlas_meta.run_metrics WHERE table_name = '{spec.table}' "
                            "AND metric = 'rule_violations:payment_known'")
    assert metric == [(2.0,)]


def test_fail_rule_stops_and_writes_nothing(wh_conn, spec):
    failing = spec.model_copy(update={"rules": (RowRule(name="no_big_orders", expect="order_amount < 100000",
                                                        action="fail"),)})
    ingest(wh_conn, failing, resolve_source("orders/2026-11-01/*.csv"), "r", "2026-11-01")
    with pytest.raises(AtlasRowRuleError, match=r"no_big_orders: 1 row\(s\)"):
        build_silver(wh_conn, failing, protect, "r", "2026-11-01")
    wh_conn.rollback()
    assert _rows(wh_conn, f"SELECT count(*) FROM silver.{spec.table}") == [(0,)]


def test_reprocess_moves_fixed_rows_into_silver_exactly_once(wh_conn, spec):
    ingest(wh_conn, spec, resolve_source("orders/2026-11-01/*.csv"), "r", "2026-11-01")
    build_silver(wh_conn, spec, protect, "r", "2026-11-01")
    # the cause is fixed: 'on_hold' becomes an allowed status, big orders are accepted
    columns = tuple(c.model_copy(update={"allowed_values": (*c.allowed_values, "on_hold")})
                    if c.name == "status" else c for c in spec.table_schema.columns)
    fixed = spec.model_copy(update={
        "rules": RULES[:1],
        "table_schema": spec.table_schema.model_copy(update={"columns": columns}),
    })
    first = reprocess(wh_conn, fixed, "2026-11-01", "reprocess_1", protect=protect)
    assert (first.quarantined_before, first.quarantined_after, first.moved_to_silver) == (2, 0, 2)
    second = reprocess(wh_conn, fixed, "2026-11-01", "reprocess_2", protect=protect)
    assert (second.quarantined_after, second.moved_to_silver) == (0, 0)
    assert _rows(wh_conn, f"SELECT count(*), count(DISTINCT order_id) FROM silver.{spec.table}") == [(4, 4)]


def test_rule_expressions_are_single_sql_expressions():
    with pytest.raises(ValueError, match="one SQL expression"):
        RowRule(name="x", expect="true; DROP TABLE silver.orders")
