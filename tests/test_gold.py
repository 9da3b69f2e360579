"""Gold models on the real warehouse: hand-computed metrics, reruns and the atomic swap; the tables
each model reads, parsed from its SQL and confirmed by PostgreSQL; the input check of build_gold."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from atlas.errors import AtlasError, AtlasInputsMissingError
from atlas.gold import build_model, model_names, model_tables, render_model, run_model
from atlas.pii.pseudonym import pseudonymize

AS_OF = "2026-03-31"
CONTEXT = {"ds": AS_OF, "run_id": "scheduled__2026-03-31T00:00:00+00:00"}
KEY = b"test-key-for-gold-models-0123456"
A, B, C, D, E = (pseudonymize(f"C00000{i}", KEY) for i in range(1, 6))
STRANGER = pseudonymize("C999999", KEY)

CUSTOMER_DDL = """
CREATE TABLE {s}.customers (
    customer_id text, customer_name text, email_address text, phone_number text, cpr_number text,
    address text, city text, postal_code text, country text, date_of_birth text,
    created_at timestamptz, is_active boolean, customer_tier text, notes text,
    _atlas_run_id text, _atlas_logical_date date, _atlas_loaded_at timestamptz,
    _atlas_source_file text, _atlas_row_number bigint)
"""
ORDER_DDL = """
CREATE TABLE {s}.orders (
    order_id text, customer_id text, order_date timestamptz, order_amount numeric, currency text,
    status text, payment_method text, shipping_address text,
    _atlas_run_id text, _atlas_logical_date date, _atlas_loaded_at timestamptz,
    _atlas_source_file text, _atlas_row_number bigint)
"""

# customer_id, tier, country, city, created_at, silver slice
CUSTOMERS = [
    (A, "silver", "DK", "Aarhus", "2025-03-31 12:00Z", "2026-03-30"),  # superseded by the next row
    (A, "gold", "DK", "Aarhus", "2025-03-31 12:00Z", "2026-03-31"),
    (B, "bronze", "DK", "Copenhagen", "2026-03-21 08:00Z", "2026-03-31"),
    (C, "silver", "SE", "Malmo", "2024-03-31 09:00Z", "2026-03-31"),
    (D, "platinum", "NO", "Oslo", "2026-01-01 10:00Z", "2026-03-31"),
    (E, "bronze", "DK", "Odense", "2025-09-30 10:00Z", "2026-03-31"),
]
# order_id, customer_id, order_date, amount, currency, status, silver slice
ORDERS = [
    ("O00000001", A, "2025-12-01 10:00Z", "300.00", "DKK", "completed", "2026-03-31"),
    ("O00000002", A, "2026-02-01 11:00Z", "200.00", "DKK", "pending", "2026-03-30"),
    ("O00000002", A, "2026-02-01 11:00Z", "200.00", "DKK", "completed", "2026-03-31"),
    ("O00000003", A, "2026-03-30 12:00Z", "100.00", "DKK", "completed", "2026-03-31"),
    ("O00000004", A, "2026-03-31 23:30Z", "50.00", "DKK", "refunded", "2026-03-31"),
    ("O00000005", A, "2026-04-01 00:30Z", "999.00", "DKK", "completed", "2026-03-31"),  # after as-of
    ("O00000006", B, "2026-03-25 09:00Z", "60.00", "EUR", "completed", "2026-03-31"),
    ("O00000007", C, "2025-03-31 10:00Z", "80.00", "DKK", "cancelled", "2026-03-31"),
    ("O00000008", E, "2026-01-15 18:00Z", "40.00", "DKK", "completed", "2026-03-31"),
    ("O00000009", E, "2026-02-15 07:00Z", "40.00", "DKK", "completed", "2026-03-31"),
    ("O00000010", STRANGER, "2026-03-31 08:00Z", "20.00", "DKK", "completed", "2026-03-31"),
]


@pytest.fixture
def schemas(wh_conn):
    """A private silver/gold schema pair with the fixture data loaded."""
    suffix = uuid.uuid4().hex[:8]
    mapping = {"silver": f"tg_silver_{suffix}", "gold": f"tg_gold_{suffix}"}
    with wh_conn.cursor() as cur:
        for schema in mapping.values():
            cur.execute(f"CREATE SCHEMA {schema}")
        cur.execute(CUSTOMER_DDL.format(s=mapping["silver"]))
        cur.execute(ORDER_DDL.format(s=mapping["silver"]))
        for n, (cid, tier, country, city, created, slice_) in enumerate(CUSTOMERS):
            cur.execute(
                f"INSERT INTO {mapping['silver']}.customers (customer_id, customer_name, city, country,"
                " created_at, is_active, customer_tier, _atlas_run_id, _atlas_logical_date,"
                " _atlas_loaded_at, _atlas_row_number)"
                " VALUES (%s, %s, %s, %s, %s, true, %s, 'r', %s, %s::date + time '01:00', %s)",
                (cid, pseudonymize(f"name{n}", KEY), city, country, created, tier, slice_, slice_, n),
            )
        for n, row in enumerate(ORDERS):
            insert_order(wh_conn, mapping, row, n)
    wh_conn.commit()
    yield mapping
    wh_conn.rollback()
    with wh_conn.cursor() as cur:
        for schema in mapping.values():
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    wh_conn.commit()


def insert_order(conn, mapping, row, n):
    order_id, cid, when, amount, currency, status, slice_ = row
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {mapping['silver']}.orders (order_id, customer_id, order_date, order_amount,"
            " currency, status, payment_method, _atlas_run_id, _atlas_logical_date, _atlas_loaded_at,"
            " _atlas_row_number) VALUES (%s, %s, %s, %s, %s, %s, 'invoice', 'r', %s,"
            " %s::date + time '01:00', %s)",
            (order_id, cid, when, amount, currency, status, slice_, slice_, n),
        )


def fetch(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        names = [d.name for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    conn.commit()
    return rows


def customer_rows(conn, gold):
    return {r["customer_id"]: r for r in fetch(conn, f"SELECT * FROM {gold}.customer_360")}


def test_models_are_discovered_and_render_with_the_real_schemas_by_default():
    assert model_names() == ("customer_360", "daily_revenue", "order_facts")
    sql = render_model("customer_360", CONTEXT)
    assert "FROM silver.customers" in sql and "CREATE TABLE gold.customer_360__next" in sql
    assert "'2026-03-31'::date" in sql and "now()" not in sql.lower()
    with pytest.raises(AtlasError):
        render_model("customer_360", CONTEXT, schemas={"silver": "x; DROP TABLE y"})
    with pytest.raises(AtlasError):
        render_model("../secrets", CONTEXT)


def test_customer_360_metrics_rfm_and_clv(wh_conn, schemas):
    assert build_model(wh_conn, "customer_360", CONTEXT, schemas=schemas) == 5
    rows = customer_rows(wh_conn, schemas["gold"])
    assert set(rows) == {A, B, C, D, E}  # the stranger's order has no customer; D has no orders

    a = rows[A]
    assert a["customer_tier"] == "gold"  # latest silver slice wins
    assert (a["total_orders"], a["completed_orders"]) == (4, 3)  # 05 is after the as-of day
    assert (a["total_revenue"], a["avg_order_value"], a["max_order_value"]) == (
        Decimal("600.00"), Decimal("200.00"), Decimal("300.00"))
    assert a["last_order_at"] == datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert (a["days_since_last_order"], a["tenure_days"]) == (0, 365)
    assert a["customer_lifetime_value"] == Decimal("1800.00")  # 200 x 3/yr x 3

    assert rows[B]["tenure_days"] == 10
    assert rows[B]["customer_lifetime_value"] == Decimal("2190.00")  # tenure floored at 30 days
    assert rows[C]["total_revenue"] == Decimal("0.00") and rows[C]["days_since_last_order"] == 365
    assert rows[C]["customer_lifetime_value"] == Decimal("0.00")
    assert rows[E]["days_since_last_order"] == 44 and rows[E]["tenure_days"] == 182
    assert rows[E]["customer_lifetime_value"] == Decimal("481.32")  # 80 x 365 x 3 / 182

    d = rows[D]
    assert (d["total_orders"], d["total_revenue"], d["avg_order_value"]) == (0, Decimal("0.00"), Decimal("0.00"))
    assert d["days_since_last_order"] is None and d["first_order_at"] is None
    assert (d["rfm_recency"], d["rfm_frequency"], d["rfm_monetary"], d["rfm_score"]) == (0, 0, 0, 0)
    assert d["rfm_segment"] == "no_orders" and d["tenure_days"] == 89

    scores = {cid: (r["rfm_recency"], r["rfm_frequency"], r["rfm_monetary"]) for cid, r in rows.items()}
    assert scores[A] == (5, 5, 5)
    assert scores[B] == (4, 1, 2)
    assert scores[C] == (1, 1, 1)  # ties on frequency (B, C: one order each) share a score
    assert scores[E] == (2, 4, 4)
    segments = {cid: r["rfm_segment"] for cid, r in rows.items()}
    assert segments == {A: "champions", B: "potential_loyalist", C: "lost", D: "no_orders", E: "at_risk"}
    assert rows[B]["rfm_score"] == 7
    assert all(r["as_of_date"] == date(2026, 3, 31) for r in rows.values())
    assert all(r["_atlas_run_id"] == CONTEXT["run_id"] for r in rows.values())


def test_daily_revenue(wh_conn, schemas):
    assert build_model(wh_conn, "daily_revenue", CONTEXT, schemas=schemas) == 8
    built = fetch(wh_conn, f"SELECT * FROM {schemas['gold']}.daily_revenue")
    rows = {(r["order_day"], r["currency"]): r for r in built}
    last = rows[(date(2026, 3, 31), "DKK")]  # A's refund + the stranger's completed order
    assert (last["orders"], last["completed_orders"], last["refunded_orders"]) == (2, 1, 1)
    assert (last["revenue"], last["avg_order_value"], last["distinct_customers"]) == (
        Decimal("20.00"), Decimal("20.00"), 2)
    cancelled = rows[(date(2025, 3, 31), "DKK")]
    assert (cancelled["cancelled_orders"], cancelled["revenue"], cancelled["avg_order_value"]) == (
        1, Decimal("0.00"), Decimal("0.00"))
    assert rows[(date(2026, 2, 1), "DKK")]["completed_orders"] == 1  # the pending version is superseded
    assert rows[(date(2026, 3, 25), "EUR")]["revenue"] == Decimal("60.00")
    assert sum(r["revenue"] for r in rows.values()) == Decimal("760.00")


def test_order_facts(wh_conn, schemas):
    assert build_model(wh_conn, "order_facts", CONTEXT, schemas=schemas) == 9
    rows = {r["order_id"]: r for r in fetch(wh_conn, f"SELECT * FROM {schemas['gold']}.order_facts")}
    assert "O00000005" not in rows
    assert [rows[f"O0000000{i}"]["customer_order_number"] for i in (1, 2, 3, 4)] == [1, 2, 3, 4]
    assert rows["O00000002"]["status"] == "completed"
    refund = rows["O00000004"]
    assert refund["order_hour"] == 23 and refund["order_weekday"] == date(2026, 3, 31).isoweekday()
    assert rows["O00000010"]["customer_order_number"] == 1


def test_rerun_is_identical_and_independent_of_session_time_zone(wh_conn, schemas):
    gold = schemas["gold"]
    results = []
    for zone in ("UTC", "Pacific/Kiritimati"):
        with wh_conn.cursor() as cur:
            cur.execute(f"SET TIME ZONE '{zone}'")
        wh_conn.commit()
        for name in model_names():
            build_model(wh_conn, name, CONTEXT, schemas=schemas)
        results.append([
            fetch(wh_conn, f"SELECT * FROM {gold}.customer_360 ORDER BY customer_id"),
            fetch(wh_conn, f"SELECT * FROM {gold}.daily_revenue ORDER BY order_day, currency"),
            fetch(wh_conn, f"SELECT * FROM {gold}.order_facts ORDER BY order_id"),
        ])
    assert results[0] == results[1]
    tables = fetch(wh_conn, f"SELECT tablename FROM pg_tables WHERE schemaname = '{gold}' ORDER BY 1")
    assert [t["tablename"] for t in tables] == ["customer_360", "daily_revenue", "order_facts"]


def test_a_failed_build_leaves_the_previous_table_untouched(wh_conn, schemas):
    gold = schemas["gold"]
    build_model(wh_conn, "customer_360", CONTEXT, schemas=schemas)
    broken = render_model("customer_360", {**CONTEXT, "ds": "2026-04-30"}, schemas=schemas) + "SELECT 1/0;"
    with pytest.raises(Exception, match="division by zero"):
        run_model(wh_conn, broken)
    rows = fetch(wh_conn, f"SELECT count(*) AS n, min(as_of_date) AS d FROM {gold}.customer_360")
    assert rows == [{"n": 5, "d": date(2026, 3, 31)}]
    assert not fetch(wh_conn, f"SELECT 1 FROM pg_tables WHERE schemaname = '{gold}' AND tablename LIKE '%next'")


def test_a_reader_during_the_swap_sees_the_complete_new_table(wh_conn, warehouse_dsn, schemas):
    from atlas.warehouse import connect

    gold = schemas["gold"]
    build_model(wh_conn, "customer_360", CONTEXT, schemas=schemas)
    insert_order(wh_conn, schemas, ("O00000011", D, "2026-04-02 10:00Z", "10.00", "DKK", "completed",
                                    "2026-04-02"), 99)
    with wh_conn.cursor() as cur:  # the rebuild is done but not committed yet
        cur.execute(render_model("customer_360", {**CONTEXT, "ds": "2026-04-02"}, schemas=schemas))

    reader = connect(warehouse_dsn)
    seen: list = []

    def read() -> None:
        seen.extend(fetch(reader, f"SELECT count(*) AS n, sum(total_orders) AS o FROM {gold}.customer_360"))

    thread = threading.Thread(target=read)
    thread.start()
    waiting = 0
    for _ in range(100):  # the reader waits for the swap's lock instead of reading half a table
        with wh_conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", (reader.get_backend_pid(),))
            waiting = cur.fetchone()[0]
        if waiting:
            break
        time.sleep(0.05)
    assert waiting and thread.is_alive() and not seen
    wh_conn.commit()
    thread.join(10)
    reader.close()
    assert seen == [{"n": 5, "o": 10}]  # the new build: orders of Apr 1 and 2 now count


INPUTS = {"customer_360": ("silver.customers", "silver.orders"), "daily_revenue": ("silver.orders",),
          "order_facts": ("silver.orders",)}


def test_model_tables_parsed_from_the_sql():
    for name, inputs in INPUTS.items():
        tables = model_tables(name)
        assert (tables.inputs, tables.output) == (inputs, f"gold.{name}"), name
    assert model_tables("customer_360").silver_tables == ("customers", "orders")


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_each_model_needs_exactly_the_tables_its_sql_reads(wh_conn, schemas, name):
    """PostgreSQL confirms the parse: the model builds with only its parsed inputs present, and fails
    without any one of them."""
    silver = schemas["silver"]
    inputs = [t.split(".", 1)[1] for t in model_tables(name).inputs]
    with wh_conn.cursor() as cur:
        for table in {"customers", "orders"} - set(inputs):
            cur.execute(f"DROP TABLE {silver}.{table}")
    wh_conn.commit()
    assert build_model(wh_conn, name, CONTEXT, schemas=schemas) > 0
    for table in inputs:
        with wh_conn.cursor() as cur:
            cur.execute(f"ALTER TABLE {silver}.{table} RENAME TO {table}_away")
        wh_conn.commit()
        with pytest.raises(Exception, match=f'relation "{silver}.{table}" does not exist'):
            build_model(wh_conn, name, CONTEXT, schemas=schemas)
        with wh_conn.cursor() as cur:
            cur.execute(f"ALTER TABLE {silver}.{table}_away RENAME TO {table}")
        wh_conn.commit()


def test_a_table_hidden_from_the_parser_fails_loudly(tmp_path, monkeypatch):
    """A CTE named like the table it reads hides that table from the OpenLineage parser; the
    cross-check refuses the model instead of losing an input (and with it an asset and lineage)."""
    gold_dir = tmp_path / "sql" / "gold"
    gold_dir.mkdir(parents=True)
    (gold_dir / "shadowed.sql").write_text(
        "DROP TABLE IF EXISTS gold.shadowed__next;\n"
        "CREATE TABLE gold.shadowed__next AS WITH customers AS (SELECT * FROM silver.customers) "
        "SELECT c.customer_id, count(o.order_id) AS n FROM customers c "
        "LEFT JOIN silver.orders o USING (customer_id) GROUP BY 1;\n"
        "DROP TABLE IF EXISTS gold.shadowed;\nALTER TABLE gold.shadowed__next RENAME TO shadowed;\n"
        "SELECT count(*) FROM gold.shadowed;\n")
    (gold_dir / "elsewhere.sql").write_text(
        "CREATE TABLE gold.other AS SELECT * FROM silver.orders;\nSELECT count(*) FROM gold.other;\n")
    monkeypatch.setenv("ATLAS_INCLUDE_DIR", str(tmp_path))
    with pytest.raises(AtlasError, match=r"did not see \['silver.customers'\]"):
        model_tables("shadowed")
    with pytest.raises(AtlasError, match=r"must write exactly gold\.elsewhere"):
        model_tables("elsewhere")


def test_build_gold_requires_every_input_in_for_the_date(wh_conn):
    """Built for the date and through its quality gate, or build_gold refuses (and creates nothing)."""
    from atlas.operators.gold import require_inputs

    name = f"rq_{uuid.uuid4().hex[:8]}"
    ds = "2026-03-31"

    def problem() -> str:
        try:
            require_inputs(wh_conn, [f"silver.{name}"], ds)
        except AtlasInputsMissingError as exc:
            return str(exc)
        return ""

    def execute(sql, *params):
        with wh_conn.cursor() as cur:
            cur.execute(sql, params)
        wh_conn.commit()

    def quality(outcome):
        execute("INSERT INTO atlas_meta.quality_results (table_name, layer, check_name, dimension, severity, outcome,"
                " run_id, logical_date) VALUES (%s, 'silver', %s, 'validity', 'fail', %s, 'r', %s)",
                name, f"check_{outcome}", outcome, ds)

    try:
        assert problem() == f"inputs not in for {ds}: silver.{name}: no table"
        execute(f"CREATE TABLE silver.{name} (id int)")
        assert problem().endswith("not built for this date")
        execute("INSERT INTO atlas_meta.run_metrics (table_name, stage, metric, value, run_id, logical_date) "
                "VALUES (%s, 'silver', 'silver_rows', 1, 'r', %s)", name, ds)
        assert problem().endswith("not checked for this date")
        quality("pass")
        assert problem() == ""
        quality("fail")
        assert problem().endswith("failed its quality gate")
        assert not fetch(wh_conn, f"SELECT 1 FROM pg_tables WHERE schemaname = 'gold' AND tablename = '{name}'")
    finally:
        execute(f"DROP TABLE IF EXISTS silver.{name}")
        for table in ("run_metrics", "quality_results"):
            execute(f"DELETE FROM atlas_meta.{table} WHERE table_name = %s", name)
