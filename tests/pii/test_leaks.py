"""Leak guard against the real embedded PostgreSQL: clean tables pass, planted leaks are caught,
metadata and header rows are no evidence, and the in-build guard sees leaks across chunks."""

from __future__ import annotations

import random

import pandas as pd
import pytest
from faker import Faker

from atlas.config import ColumnPolicy, PiiSpec
from atlas.errors import AtlasPiiLeakError
from atlas.pii import ColumnFinding, build_protector, find_detector_hits, find_leaks
from atlas.pii.leaks import LeakSource, LeakTarget, SliceLeakGuard

ROWS = 300
PII_COLUMNS = ["customer_name", "email", "phone", "cpr"]
SPEC = PiiSpec(sample_size=100, columns={
    "customer_name": ColumnPolicy(strategy="pseudonymize", entity="PERSON"),
    "email": ColumnPolicy(strategy="pseudonymize", entity="EMAIL_ADDRESS"),
    "phone": ColumnPolicy(strategy="mask", keep_last=2, entity="PHONE_NUMBER"),
    "cpr": ColumnPolicy(strategy="redact", entity="DK_CPR"),
    "notes": ColumnPolicy(strategy="replace", free_text=True),
})


def _bronze(seed: int = 3) -> pd.DataFrame:
    fake = Faker(["da_DK", "en_GB"])
    fake.seed_instance(seed)
    rnd = random.Random(seed)
    rows = []
    for i in range(ROWS):
        name, email = fake.name(), fake.email()
        phone = f"+45{rnd.randrange(20_000_000, 99_999_999)}"
        rows.append({
            "customer_id": f"C{i:06d}", "customer_name": name, "email": email, "phone": phone,
            "cpr": f"{rnd.randrange(1, 28):02d}{rnd.randrange(1, 12):02d}{rnd.randrange(50, 99)}-"
                   f"{rnd.randrange(1000, 3999)}",
            "notes": f"Customer {name} wants a callback." if i % 3 else None,
        })
    return pd.DataFrame(rows)


def _findings() -> list[ColumnFinding]:
    return [ColumnFinding(c, "free_text" if c == "notes" else "structured", (), 1.0, 1.0, ROWS, (), p.strategy,
                          "config") for c, p in SPEC.columns.items()]


@pytest.fixture
def schema(scratch_schema):
    return scratch_schema


def _load(conn, qualified: str, frame: pd.DataFrame, extra: dict[str, str] | None = None) -> None:
    columns = list(frame.columns)
    extra = extra or {}
    ddl = ", ".join([f"{c} text" for c in columns] + [f"{c} {t}" for c, t in extra.items()])
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {qualified} ({ddl})")
        cur.executemany(
            f"INSERT INTO {qualified} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
            [tuple(None if pd.isna(v) else v for v in row) for row in frame.itertuples(index=False)],
        )
        cur.execute(f"ANALYZE {qualified}")
    conn.commit()


@pytest.fixture
def layers(wh_conn, schema, keys):
    bronze = _bronze()
    _load(wh_conn, f"{schema}.bronze", bronze.assign(_atlas_logical_date="2026-11-22"))
    silver = build_protector(SPEC, _findings(), keys).protect(bronze)
    _load(wh_conn, f"{schema}.silver", silver.assign(amount="12.50"))
    gold = pd.DataFrame({"customer_id": silver["customer_id"], "segment": ["loyal"] * ROWS})
    _load(wh_conn, f"{schema}.gold", gold, {"score": "numeric"})
    return bronze


def _sources(schema: str, columns=PII_COLUMNS, ds: str | None = None) -> list[LeakSource]:
    return [LeakSource(f"{schema}.bronze", tuple(columns), ds)]


def test_protected_layers_have_no_leaks(wh_conn, schema, layers):
    targets = [f"{schema}.silver", f"{schema}.gold", f"{schema}.missing_table"]
    assert find_leaks(wh_conn, _sources(schema), targets) == []


def test_planted_leaks_are_caught_with_counts_and_no_values(wh_conn, schema, layers):
    raw_email, raw_phone, raw_name = layers.loc[5, "email"], layers.loc[7, "phone"], layers.loc[9, "customer_name"]
    with wh_conn.cursor() as cur:
        cur.execute(f"UPDATE {schema}.silver SET email = %s WHERE customer_id IN "
                    f"(SELECT customer_id FROM {schema}.silver LIMIT 2)", (raw_email,))
        cur.execute(f"UPDATE {schema}.silver SET notes = %s WHERE notes IS NOT NULL AND customer_id = "
                    f"(SELECT min(customer_id) FROM {schema}.silver WHERE notes IS NOT NULL)",
                    (f"Callback on {raw_phone}, ok.",))
        cur.execute(f"UPDATE {schema}.gold SET segment = %s WHERE ctid = (SELECT min(ctid) FROM {schema}.gold)",
                    (raw_name,))
    wh_conn.commit()
    leaks = find_leaks(wh_conn, _sources(schema), [f"{schema}.silver", f"{schema}.gold"])
    got = {(leak.target.split(".")[1], leak.column, leak.source_column, leak.match): leak.matches for leak in leaks}
    assert got == {
        ("silver", "email", "email", "exact"): 1,  # one distinct raw value (in two cells)
        ("silver", "notes", "phone", "token"): 1,
        ("gold", "segment", "customer_name", "exact"): 1,
    }
    assert not any(value in repr(leaks) for value in (raw_email, raw_phone, raw_name))


def test_leak_guard_reads_only_the_logical_date_slice(wh_conn, schema, layers):
    with wh_conn.cursor() as cur:
        cur.execute(f"UPDATE {schema}.silver SET email = %s WHERE customer_id = 'C000001'", (layers.loc[1, "email"],))
        cur.execute(f"UPDATE {schema}.bronze SET _atlas_logical_date = '2026-11-21' WHERE customer_id = 'C000001'")
    wh_conn.commit()
    targets = [f"{schema}.silver"]
    assert find_leaks(wh_conn, _sources(schema, ["email"], "2026-11-22"), targets) == []
    assert len(find_leaks(wh_conn, _sources(schema, ["email"], "2026-11-21"), targets)) == 1


def test_metadata_columns_and_repeated_header_rows_are_no_evidence(wh_conn, schema, layers):
    """A header row repeated in the file is raw data whose values are column names: they turn up
    in quarantine reasons and in ordinary columns without being PII. A real leak next to them is
    still caught."""
    raw_email = layers.loc[11, "email"]
    with wh_conn.cursor() as cur:
        cur.execute(f"INSERT INTO {schema}.bronze (customer_id, customer_name, email, phone, cpr, notes, "
                    "_atlas_logical_date) VALUES ('customer_id', 'customer_name', 'email', 'phone', 'cpr', "
                    "'notes', '2026-11-22')")
        cur.execute(f"CREATE TABLE {schema}.quarantine (customer_id text, segment text, notes text, "
                    "_atlas_rule text, _atlas_reason text, _atlas_source_file text)")
        cur.execute(f"INSERT INTO {schema}.quarantine VALUES ('customer_id', 'customer_name', 'PHONE changed', "
                    "'pattern', 'customer_id: does not match ^C\\d{{6}}$', %s)", (raw_email,))
    wh_conn.commit()
    target = f"{schema}.quarantine"
    assert find_leaks(wh_conn, _sources(schema), [target]) == []
    with wh_conn.cursor() as cur:
        cur.execute(f"UPDATE {schema}.quarantine SET notes = %s", (f"new address {raw_email} (verified)",))
    wh_conn.commit()
    [leak] = find_leaks(wh_conn, _sources(schema), [target])
    assert (leak.column, leak.source_column, leak.match, leak.matches) == ("notes", "email", "token", 1)


def test_several_inputs_and_an_uncommitted_staging_table(wh_conn, schema, layers):
    """A cross-table output is checked against every input's raw values, and a table built in the
    caller's open transaction is read before it is committed (the guards run before commit)."""
    with wh_conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {schema}.bronze_orders (order_ref text, _atlas_logical_date date)")
        cur.execute(f"INSERT INTO {schema}.bronze_orders VALUES ('ORD-778812', '2026-11-22')")
    wh_conn.commit()
    sources = [*_sources(schema, ds="2026-11-22"), LeakSource(f"{schema}.bronze_orders", ("order_ref",), "2026-11-22")]
    with wh_conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {schema}.model__next AS SELECT customer_id, 'ORD-778812'::text AS ref "
                    f"FROM {schema}.silver LIMIT 3")
        cur.execute("CREATE TEMP TABLE model_tmp AS SELECT 'x'::text AS ref")
    leaks = find_leaks(wh_conn, sources, [LeakTarget(f"{schema}.model__next", f"{schema}.model"),
                                          LeakTarget("pg_temp.model_tmp", "tmp")])
    assert [(x.target, x.column, x.source_table, x.source_column, x.matches) for x in leaks] == [
        (f"{schema}.model", "ref", f"{schema}.bronze_orders", "order_ref", 1)]
    wh_conn.rollback()


def test_slice_guard_catches_leaks_across_chunks_before_anything_is_written(layers):
    """The in-build guard: a raw value seen in a later chunk is still caught in an earlier chunk's
    output, in normalized form too, as a whole cell and inside text; the error names columns and
    counts only."""
    raw_phone, raw_email = layers.loc[250, "phone"], layers.loc[260, "email"]
    guard = SliceLeakGuard("bronze.customers", ["customer_name", "email", "phone"], ignore=PII_COLUMNS)
    first, second = layers.iloc[:150], layers.iloc[150:]
    out = pd.DataFrame({"customer_name": ["ps_1", "ps_2"], "notes": [f"ring {raw_phone}.", None],
                        "segment": ["loyal", raw_email.upper()], "_atlas_reason": [raw_email, raw_email]})
    guard.observe_raw(first)
    guard.observe_output("silver.customers", out, ["customer_name", "notes", "segment", "_atlas_reason"])
    guard.observe_raw(second)
    normalized = second.assign(email=second["email"].str.upper())  # e.g. a normalizing rule
    guard.observe_raw(normalized, unchanged_from=second)
    with pytest.raises(AtlasPiiLeakError) as info:
        guard.raise_for_leaks()
    message = str(info.value)
    assert message == ("raw PII reached downstream tables: silver.customers.notes has 1 raw value(s) of "
                       "bronze.customers.phone inside text; silver.customers.segment has 1 raw value(s) of "
                       "bronze.customers.email")
    assert raw_phone not in message and raw_email.upper() not in message
    clean = SliceLeakGuard("bronze.customers", ["email", "phone"])
    clean.observe_raw(layers)
    clean.observe_output("silver.customers", out.drop(columns=["notes", "segment"]), ["customer_name"])
    clean.raise_for_leaks()


def test_detectors_fire_on_a_column_that_should_be_pii_free(wh_conn, schema, layers):
    assert find_detector_hits(wh_conn, f"{schema}.silver", SPEC) == []
    with wh_conn.cursor() as cur:
        cur.execute(f"ALTER TABLE {schema}.silver ADD COLUMN contact text")
        cur.execute(f"UPDATE {schema}.silver SET contact = 'user' || customer_id || '@example.org'")
    wh_conn.commit()
    hits = find_detector_hits(wh_conn, f"{schema}.silver", SPEC)
    assert [(h.column, h.entity_types[0]) for h in hits] == [("contact", "EMAIL_ADDRESS")]
    assert hits[0].hit_rate == 1.0 and hits[0].rows_scanned == 100
