"""Benchmark: the default silver check set for customers on a 1,000,000-row table, Soda vs plain SQL.

    .venv/bin/python benchmarks/bench_quality.py [--rows 1000000] [--repeat 3] [--dsn DSN]

Without --dsn a throwaway embedded PostgreSQL is started in $TMPDIR/atlas-bench-quality and
removed at the end. Prints the Soda time (run_quality end to end: build SodaCL, scan, store results)
next to the same checks written as plain SQL (one aggregate query, the duplicate query and
the schema query): the floor any check runner pays for reading the table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
os.environ.setdefault("OTEL_SDK_DISABLED", "true")

DAY = date(2030, 6, 30)
SCHEMAS = {"bronze": "bench_bronze", "silver": "bench_silver", "gold": "bench_gold"}
TOKEN = "'ps_' || md5({})"


def create_customers(conn, rows: int) -> None:
    """A silver customers table shaped like Atlas's (PII columns as text) with ``rows`` clean rows."""
    s = SCHEMAS["silver"]
    with conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {s} CASCADE; CREATE SCHEMA {s}")
        cur.execute(f"""
            CREATE TABLE {s}.customers (
                customer_id text, customer_name text, email_address text, phone_number text, cpr_number text,
                address text, city text, postal_code text, country text, date_of_birth text,
                created_at timestamptz, is_active boolean, customer_tier text, notes text,
                _atlas_run_id text, _atlas_logical_date date, _atlas_loaded_at timestamptz,
                _atlas_source_file text, _atlas_row_number bigint)""")
        cur.execute(f"""
            INSERT INTO {s}.customers
            SELECT {TOKEN.format("'c' || i")}, {TOKEN.format("'n' || i")}, {TOKEN.format("'e' || i")},
                   '********' || lpad((i % 100)::text, 2, '0'), NULL, NULL,
                   (ARRAY['Aarhus','Copenhagen','Odense','Aalborg'])[1 + i % 4], '80', 'DK', (1950 + i % 50)::text,
                   TIMESTAMPTZ '{DAY}' + (i % 86000) * INTERVAL '1 second' - INTERVAL '400 days' * (i % 3),
                   i % 5 <> 0, (ARRAY['bronze','silver','gold','platinum'])[1 + i % 4], 'service note ' || i,
                   'bench', DATE '{DAY}', now(), 'customers.csv', i
            FROM generate_series(1, {rows}) AS i""")
        cur.execute(f"ANALYZE {s}.customers")
    conn.commit()


def plain_sql(conn) -> None:
    """The same checks as hand-written SQL: the floor."""
    s, d = SCHEMAS["silver"], DAY.isoformat()
    with conn.cursor() as cur:
        cur.execute(f"""
            SELECT count(*),
                   count(*) FILTER (WHERE customer_id IS NULL),
                   count(*) FILTER (WHERE customer_name IS NULL),
                   count(*) FILTER (WHERE created_at IS NULL),
                   count(*) FILTER (WHERE customer_tier NOT IN ('bronze','silver','gold','platinum')),
                   count(*) FILTER (WHERE NOT (customer_id ~ '^ps_[0-9a-f]+$' AND length(customer_id) = 35)),
                   count(*) FILTER (WHERE NOT (customer_name ~ '^ps_[0-9a-f]+$' AND length(customer_name) = 35)),
                   count(*) FILTER (WHERE NOT (email_address ~ '^ps_[0-9a-f]+$' AND length(email_address) = 35)),
                   max(created_at),
                   count(*) FILTER (WHERE created_at > TIMESTAMPTZ '{d}' + INTERVAL '1 day')
            FROM {s}.customers WHERE _atlas_logical_date = '{d}'""")
        cur.fetchall()
        cur.execute(f"""
            SELECT count(*) FROM (SELECT customer_id FROM {s}.customers
                                  WHERE customer_id IS NOT NULL AND _atlas_logical_date = '{d}'
                                  GROUP BY customer_id HAVING count(*) > 1) dup""")
        cur.fetchall()
        cur.execute("SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_schema = %s AND table_name = 'customers'", (s,))
        cur.fetchall()
    conn.rollback()


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dsn", help="warehouse DSN (default: a throwaway embedded PostgreSQL)")
    args = parser.parse_args()

    from atlas.config import load_valid_specs
    from atlas.quality import run_quality
    from atlas.warehouse import connect, embedded, ensure_warehouse

    data_dir = None if args.dsn else Path(tempfile.gettempdir(), "atlas-bench-quality", "pgdata")
    if data_dir and not embedded.is_running(data_dir):
        shutil.rmtree(data_dir, ignore_errors=True)
    dsn = args.dsn or embedded.ensure_running(data_dir)
    conn = connect(dsn)
    try:
        ensure_warehouse(conn)
        start = time.perf_counter()
        create_customers(conn, args.rows)
        print(f"built {args.rows:,} silver customers rows in {time.perf_counter() - start:.1f} s")
        spec = load_valid_specs(ROOT / "include" / "tables")["customers"]

        def soda() -> None:
            report = run_quality(dsn, spec, "silver", "bench", DAY, schemas=SCHEMAS)
            if report.failed or report.errors:
                raise SystemExit(f"unexpected check failures:\n{report.format_table()}")

        import_time = timed(lambda: __import__("soda.scan"), 1)[0]
        cold = timed(soda, 1)[0]  # first scan in the process: Soda's lazy set-up, cold caches
        soda_times = timed(soda, args.repeat)
        sql_times = timed(lambda: plain_sql(conn), args.repeat)
        checks = len(run_quality(dsn, spec, "silver", "bench", DAY, schemas=SCHEMAS, store=False).results)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"default silver check set for customers: {checks} checks, {args.rows:,} rows,"
              f" {os.cpu_count()} cores, load average {load}")
        print(f"  Soda (run_quality)  median {statistics.median(soda_times):6.2f} s   "
              f"min {min(soda_times):6.2f} s   (first scan {cold:.2f} s after importing Soda in {import_time:.2f} s)")
        print(f"  plain SQL (floor)   median {statistics.median(sql_times):6.2f} s   min {min(sql_times):6.2f} s")
        print(f"  overhead            {statistics.median(soda_times) / statistics.median(sql_times):.1f}x the floor"
              f" (target: Soda under 15 s)")
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMAS['silver']} CASCADE")
            cur.execute("DELETE FROM atlas_meta.quality_results WHERE run_id = 'bench'")
            cur.execute("DELETE FROM atlas_meta.quality_scores WHERE run_id = 'bench'")
        conn.commit()
        conn.close()
        if data_dir:
            embedded.stop(data_dir)
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
