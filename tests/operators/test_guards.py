"""The run-level leak guards raise on a planted leak and say where, never what."""

from __future__ import annotations

import pytest

from atlas import settings
from atlas.config import load_table_spec
from atlas.errors import AtlasPiiLeakError
from atlas.operators.guards import guard_detectors, guard_leaks

RAW_EMAIL = "karen.holm@example.dk"


@pytest.fixture
def planted(wh_conn):
    with wh_conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bronze.guard_src, gold.guard_out")
        cur.execute("CREATE TABLE bronze.guard_src (email_address text, _atlas_logical_date date)")
        cur.execute("INSERT INTO bronze.guard_src VALUES (%s, '2026-11-01'), ('ole@example.com', '2026-11-01')",
                    (RAW_EMAIL,))
        cur.execute("CREATE TABLE gold.guard_out (segment text, contact text)")
        cur.execute("INSERT INTO gold.guard_out VALUES ('champions', 'ps_0123456789abcdef0123456789abcdef')")
    wh_conn.commit()
    yield wh_conn
    with wh_conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bronze.guard_src, gold.guard_out")
    wh_conn.commit()


def test_clean_output_passes(planted):
    guard_leaks(planted, "guard_src", ["email_address"], ["gold.guard_out"], "2026-11-01")


def test_planted_raw_value_fails_the_run_without_quoting_it(planted):
    with planted.cursor() as cur:
        cur.execute("INSERT INTO gold.guard_out VALUES ('loyal', %s)", (RAW_EMAIL,))
    planted.commit()
    with pytest.raises(AtlasPiiLeakError) as info:
        guard_leaks(planted, "guard_src", ["email_address"], ["gold.guard_out"], "2026-11-01")
    message = str(info.value)
    assert "gold.guard_out.contact" in message and "email_address" in message
    assert RAW_EMAIL not in message


def test_detectors_fire_on_a_column_that_should_be_pii_free(planted):
    spec = load_table_spec(settings.tables_dir() / "customers.yml", {"retries": 2})
    with planted.cursor() as cur:
        cur.execute("INSERT INTO gold.guard_out SELECT 'x', 'person' || g || '@mail' || g || '.dk' "
                    "FROM generate_series(1, 40) g")
    planted.commit()
    with pytest.raises(AtlasPiiLeakError, match=r"gold.guard_out.contact: .*EMAIL_ADDRESS"):
        guard_detectors(planted, spec, ["gold.guard_out"])
