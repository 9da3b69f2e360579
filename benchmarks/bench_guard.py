"""Benchmark: the PII leak guards at a real day's volume, new vs. the previous SQL guard.

    .venv/bin/python benchmarks/bench_guard.py [--rows 1000000] [--orders 1000000] [--old-timeout 120]

A throwaway embedded PostgreSQL is started in $TMPDIR/atlas-bench-guard and removed at the end.
On a customers-shaped table (``guard_bench``, the customers.yml schema and PII policy) it

1. generates a bronze slice of ``--rows`` rows in SQL (names, emails, phone numbers, CPR numbers,
   addresses and service notes without PII) and ANALYZEs it;
2. builds silver with the real validation, protection of the structured PII columns (the notes are
   not scanned: the stage is shorter than a real one, so the guard's share is overstated) and the
   in-build leak guard: stage time and the guard's share;
3. times the previous guard (``SELECT DISTINCT ... UNION ALL ...`` over bronze into temporary
   tables, cells and words joined in SQL, after the commit) on the committed slice, with the
   server's default parallel settings (stopped after ``--old-timeout`` seconds) and with
   ``max_parallel_workers_per_gather = 0``;
4. times the guard of SQL-built outputs (``find_leaks``: bronze and the output read column-wise,
   a range of heap pages per query) on the 1M-row silver table, with and without parallel workers;
5. builds gold.customer_360 (over the bench silver and ``--orders`` generated orders) and publishes
   the customer_features AI-ready set, each with both guards before its commit: stage times and
   the guards' shares;
6. shows why the previous guard stalled: its raw-value query on a 20,000-row slice, one plan
   (parallel DISTINCT: hash aggregates in the workers and above the Gather), workers launched
   vs. none launched;
7. on that small slice, plants leaks in bronze (raw phone numbers inside notes, a raw email as a
   city) and rebuilds silver: the guard fails the build before commit, the previous slice stays.

Prints figures and plan shapes, never values.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
os.environ.setdefault("OTEL_SDK_DISABLED", "true")

TABLE = "guard_bench"
DS = "2030-06-30"
SMALL_DS = "2030-07-01"  # newer than DS: its keys move to this slice
BENCH_SILVER = "bench_silver"  # views/tables the gold model reads (customers, orders)

# ----------------------------------------------------------------------------- data

FIRST = ["Anders", "Mette", "Lars", "Hanne", "Jens", "Susanne", "Peter", "Kirsten", "Niels", "Lone", "Henrik",
         "Camilla", "Søren", "Maria", "Morten", "Anne", "Rasmus", "Julie", "Mikkel", "Sofie", "James", "Emily",
         "Oliver", "Charlotte"]
LAST = ["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen",
        "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Poulsen", "Johansen", "Møller",
        "Smith", "Brown", "Taylor", "Wilson", "Davies", "Evans"]
STREETS = ["Vestergade", "Østergade", "Nørregade", "Søndergade", "Algade", "Kirkevej", "Skolevej", "Strandvejen",
           "Bredgade", "Jernbanegade", "Stationsvej", "Parkvej"]
PLACES = [("8000", "Aarhus C"), ("2100", "København Ø"), ("5000", "Odense C"), ("9000", "Aalborg"),
          ("6700", "Esbjerg"), ("7100", "Vejle"), ("4000", "Roskilde"), ("3000", "Helsingør")]
NOTES = ["Asked about delivery times before Christmas.", "Prefers invoice payment for larger orders.",
         "Requested a printed catalogue.", "Complained about a late delivery; offered a 10% discount voucher.",
         "Returned an item, refund processed.", "Interested in the loyalty programme.",
         "Kunden ønsker ikke at modtage nyhedsbrev.", "Kunden har spurgt til leveringstid og returret."]
DOMAINS = ["gmail.com", "hotmail.com", "outlook.dk", "mail.dk", "yahoo.com"]


def _array(values: Sequence[str]) -> str:
    """A SQL array literal (quotes doubled); the statements using it take no parameters."""
    return "(ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "])"


def generate_bronze(conn: Any, spec: Any, rows: int, ds: str) -> None:
    """``rows`` customers for ``ds`` in bronze (text as received), every value derived from the row
    number: ids C000000.., valid Danish mobile numbers and CPR numbers, 60% with a service note."""
    from atlas.warehouse.tables import ensure_tables

    if rows > 1_000_000:
        raise SystemExit("--rows: at most 1,000,000 (customer ids are C + 6 digits)")
    with conn.cursor() as cur:
        ensure_tables(cur, spec)
        cur.execute(f"DELETE FROM bronze.{TABLE} WHERE _atlas_logical_date = %s", (ds,))
        cur.execute(f"""
            INSERT INTO bronze.{TABLE} (customer_id, customer_name, email_address, phone_number, cpr_number,
                address, city, postal_code, country, date_of_birth, created_at, is_active, customer_tier, notes,
                _atlas_run_id, _atlas_logical_date, _atlas_source_file, _atlas_source_checksum, _atlas_row_number)
            SELECT 'C' || lpad(i::text, 6, '0'), fn || ' ' || ln,
                   translate(lower(fn) || '.' || lower(ln), 'æøå', 'aoa') || (i % 9973)::text || '@'
                       || {_array(DOMAINS)}[1 + i % {len(DOMAINS)}],
                   '+45' || (20000000 + (i::bigint * 7919) % 10000000)::text,
                   to_char(dob, 'DDMMYY') || '-' || (i % 4)::text || lpad((i % 1000)::text, 3, '0'),
                   {_array(STREETS)}[1 + (i / 7) % {len(STREETS)}] || ' ' || (1 + i % 180)::text,
                   {_array([c for _, c in PLACES])}[1 + i % {len(PLACES)}],
                   {_array([p for p, _ in PLACES])}[1 + i % {len(PLACES)}],
                   'Denmark', dob::text, (timestamp '2024-01-01' + (i % 700) * interval '1 day')::text,
                   CASE WHEN i % 5 = 0 THEN 'false' ELSE 'true' END,
                   (ARRAY['bronze', 'silver', 'gold', 'platinum'])[1 + i % 4],
                   CASE WHEN i % 5 < 3 THEN {_array(NOTES)}[1 + (i / 3) % {len(NOTES)}]
                        || ' Order O' || lpad((i * 3)::text, 8, '0') || '.' END,
                   'bench', '{ds}', 'customers.csv', 'bench', i + 1
            FROM (SELECT i, {_array(FIRST)}[1 + (i * 13) % {len(FIRST)}] AS fn,
                         {_array(LAST)}[1 + (i * 17 / 3) % {len(LAST)}] AS ln,
                         date '1940-01-01' + (i * 37 % 21900) AS dob
                  FROM generate_series(0, {int(rows)} - 1) AS i) g""")
        cur.execute(f"ANALYZE bronze.{TABLE}")
    conn.commit()


def generate_orders(conn: Any, orders: int) -> None:
    """Silver orders for the gold model: ``orders`` rows over the bench silver customers."""
    with conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {BENCH_SILVER} CASCADE")
        cur.execute(f"CREATE SCHEMA {BENCH_SILVER}")
        cur.execute(f"CREATE VIEW {BENCH_SILVER}.customers AS SELECT * FROM silver.{TABLE}")
        cur.execute(f"""
            CREATE TABLE {BENCH_SILVER}.orders AS
            WITH c AS (SELECT customer_id, row_number() OVER (ORDER BY customer_id) - 1 AS n FROM silver.{TABLE}),
                 k AS (SELECT count(*) AS total FROM c)
            SELECT 'O' || lpad(i::text, 9, '0') AS order_id, c.customer_id,
                   timestamptz '2030-01-01' + (i % 180) * interval '1 day' + (i % 86400) * interval '1 second'
                       AS order_date,
                   round((10 + i % 4000)::numeric / 3, 2) AS order_amount, 'DKK'::text AS currency,
                   (ARRAY['completed', 'completed', 'completed', 'pending', 'cancelled', 'refunded'])[1 + i % 6]
                       AS status, 'credit_card'::text AS payment_method, NULL::text AS shipping_address,
                   'bench'::text AS _atlas_run_id, date '{DS}' AS _atlas_logical_date, now() AS _atlas_loaded_at,
                   'orders.csv'::text AS _atlas_source_file, i::bigint AS _atlas_row_number
            FROM generate_series(0, {int(orders)} - 1) AS i CROSS JOIN k
            JOIN c ON c.n = (i::bigint * 7919) % k.total""")
        cur.execute(f"ANALYZE {BENCH_SILVER}.orders")
    conn.commit()


# ----------------------------------------------------------------------------- the previous guard


def old_find_leaks(conn: Any, source_table: str, pii_columns: Sequence[str], targets: Sequence[str],
                   logical_date: str) -> list[tuple]:
    """The guard as it was: distinct raw values (UNION ALL of one scan per column) into a temporary
    table, then every text cell and every word of the targets joined against it, in SQL."""
    from psycopg2 import sql

    from atlas.pii.leaks import _split

    schema, table = _split(source_table)
    parts = [sql.SQL("SELECT {label} AS source_column, btrim({col}::text) AS v FROM {tbl} WHERE {col} IS NOT NULL "
                     "AND length(btrim({col}::text)) >= 4 AND _atlas_logical_date = {ds}").format(
        label=sql.Literal(c), col=sql.Identifier(c), tbl=sql.Identifier(schema, table), ds=sql.Literal(logical_date))
        for c in pii_columns]
    source = sql.SQL("SELECT DISTINCT source_column, v FROM ({}) raw").format(sql.SQL(" UNION ALL ").join(parts))
    found: list[tuple] = []
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS atlas_leak_src, atlas_leak_cells, atlas_leak_words")
        cur.execute(sql.SQL("CREATE TEMP TABLE atlas_leak_src AS {}").format(source))
        cur.execute("ANALYZE atlas_leak_src")
        for target in targets:
            t_schema, t_table = _split(target)
            cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND "
                        "table_name = %s AND data_type = 'text' ORDER BY ordinal_position", (t_schema, t_table))
            columns = [r[0] for r in cur.fetchall()]
            cells = sql.SQL(" UNION ALL ").join(
                sql.SQL("SELECT {label} AS target_column, {col}::text AS cell FROM {tbl} WHERE {col} IS NOT NULL")
                .format(label=sql.Literal(c), col=sql.Identifier(c), tbl=sql.Identifier(t_schema, t_table))
                for c in columns)
            cur.execute(sql.SQL("CREATE TEMP TABLE atlas_leak_cells AS {}").format(cells))
            cur.execute("ANALYZE atlas_leak_cells")
            cur.execute("SELECT c.target_column, s.source_column, count(*) FROM atlas_leak_cells c "
                        "JOIN atlas_leak_src s ON btrim(c.cell) = s.v GROUP BY 1, 2")
            found += cur.fetchall()
            cur.execute("CREATE TEMP TABLE atlas_leak_words AS SELECT c.target_column, btrim(w, %s) AS word "
                        "FROM atlas_leak_cells c, regexp_split_to_table(c.cell, '\\s+') AS w WHERE c.cell ~ '\\s'",
                        ("'.,;:!?()[]{}<>\"'",))
            cur.execute("ANALYZE atlas_leak_words")
            cur.execute("SELECT w.target_column, s.source_column, count(*) FROM atlas_leak_words w "
                        "JOIN atlas_leak_src s ON w.word = s.v GROUP BY 1, 2")
            found += cur.fetchall()
            cur.execute("DROP TABLE atlas_leak_cells, atlas_leak_words")
        cur.execute("DROP TABLE atlas_leak_src")
    return found


def old_raw_values_query(conn: Any, columns: Sequence[str], ds: str, table: str = f"bronze.{TABLE}") -> str:
    parts = [f"SELECT '{c}' AS source_column, btrim({c}) AS v FROM {table} WHERE {c} IS NOT NULL "
             f"AND length(btrim({c})) >= 4 AND _atlas_logical_date = '{ds}'" for c in columns]
    return "SELECT DISTINCT source_column, v FROM (" + " UNION ALL ".join(parts) + ") raw"


# ----------------------------------------------------------------------------- helpers


@contextmanager
def settings(conn: Any, **values: Any) -> Iterator[None]:
    """SET for the block (RESET afterwards)."""
    with conn.cursor() as cur:
        for name, value in values.items():
            cur.execute(f"SET {name} = %s", (str(value),))
    try:
        yield
    finally:
        conn.rollback()
        with conn.cursor() as cur:
            for name in values:
                cur.execute(f"RESET {name}")
        conn.commit()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def plan(conn: Any, query: str, analyze: bool = False) -> dict[str, Any]:
    with conn.cursor() as cur:
        cur.execute(f"EXPLAIN ({'ANALYZE, ' if analyze else ''}FORMAT JSON) {query}")
        return cur.fetchone()[0][0]


def shape(node: dict[str, Any]) -> str:
    """A plan as nested node names: HashAggregate(Gather(HashAggregate(Append(...))))."""
    name = node["Node Type"]
    if node.get("Strategy") in ("Hashed", "Sorted") and name == "Aggregate":
        name = ("HashAggregate" if node["Strategy"] == "Hashed" else "GroupAggregate")
    if node.get("Partial Mode") not in (None, "Simple"):
        name = f"{node['Partial Mode']} {name}"
    children = node.get("Plans", [])
    if not children:
        return name
    inner = ", ".join(sorted({shape(c) for c in children}))
    return f"{name}({inner})"


def find(node: dict[str, Any], predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    if predicate(node):
        return node
    for child in node.get("Plans", []):
        hit = find(child, predicate)
        if hit:
            return hit
    return None


def line(label: str, seconds: float, note: str = "") -> None:
    print(f"  {label:<58} {seconds:8.2f} s  {note}")


# ----------------------------------------------------------------------------- steps


def build_silver_step(conn: Any, spec: Any, findings: list[Any], keys: Any, ds: str = DS) -> tuple[float, float, Any]:
    from atlas.operators.guards import slice_guard
    from atlas.pii import build_protector
    from atlas.silver.build import build_silver

    protector = build_protector(spec.pii, findings, keys)
    guard = slice_guard(spec, findings)
    seconds, result = timed(lambda: build_silver(conn, spec, protector.protect, "bench", ds, guard=guard))
    return seconds, guard.seconds, result


def old_guard_step(conn: Any, columns: list[str], timeout: int) -> None:
    import psycopg2

    targets = [f"silver.{TABLE}", f"quarantine.{TABLE}"]
    print("\nprevious guard (SQL, after the commit) on the committed slice")
    for label, workers in (("default parallel settings", None), ("max_parallel_workers_per_gather = 0", 0)):
        options: dict[str, Any] = {"statement_timeout": f"{timeout}s"}
        if workers is not None:
            options["max_parallel_workers_per_gather"] = workers
        with settings(conn, **options):
            shape_ = shape(plan(conn, old_raw_values_query(conn, columns, DS))["Plan"])
            try:
                seconds, found = timed(lambda: old_find_leaks(conn, f"bronze.{TABLE}", columns, targets, DS))
                line(label, seconds, f"{len(found)} leaking column(s)")
            except psycopg2.errors.QueryCanceled:
                line(label, timeout, f"stopped: not finished within {timeout} s")
            print(f"    raw values: {shape_}")


def new_guard_step(conn: Any, columns: list[str]) -> None:
    from atlas.pii.leaks import LeakSource, find_leaks

    sources = [LeakSource(f"bronze.{TABLE}", tuple(columns), DS)]
    print("\nguard of SQL-built outputs (find_leaks: bronze + output read a range of pages per query), "
          "silver as the output")
    for label, workers in (("default parallel settings", None), ("max_parallel_workers_per_gather = 0", 0)):
        options = {} if workers is None else {"max_parallel_workers_per_gather": workers}
        with settings(conn, **options):
            seconds, leaks = timed(lambda: find_leaks(conn, sources, [f"silver.{TABLE}", f"quarantine.{TABLE}"]))
            line(label, seconds, f"{len(leaks)} leaking column(s)")
    aggs = ", ".join(f"string_agg({c}::text, chr(30))" for c in columns)
    pages = "ctid >= '(0,0)'::tid AND ctid < '(2048,0)'::tid"
    span = shape(plan(conn, f"SELECT min(ctid), max(ctid) FROM bronze.{TABLE} WHERE _atlas_logical_date = '{DS}'")
                 ["Plan"])
    raw = shape(plan(conn, f"SELECT {aggs} FROM bronze.{TABLE} WHERE {pages} AND "
                           f"(_atlas_logical_date = '{DS}') IS TRUE")["Plan"])
    out = shape(plan(conn, f"SELECT string_agg(notes::text, chr(30)) FROM silver.{TABLE} WHERE {pages}")["Plan"])
    print(f"    plans: {span} (bronze slice's pages), {raw} (bronze, per range of pages), {out} (output, per range)")
    conn.rollback()


def gold_and_ai_ready_step(conn: Any, spec: Any, columns: list[str], keys: Any, lake: Path) -> None:
    from atlas.ai_ready import publish_ai_ready
    from atlas.gold import build_model
    from atlas.operators import guards
    from atlas.pii.leaks import LeakSource, LeakTarget

    sources = [LeakSource(f"bronze.{TABLE}", tuple(columns), DS)]
    spent = {"leak guard": 0.0, "detectors": 0.0}

    def guard(conn_: Any, relation: str, name: str, values: Sequence[Any] = ()) -> None:
        target = LeakTarget(relation, name, values=tuple((label, tuple(v)) for label, v in values))
        seconds, _ = timed(lambda: guards.guard_sources(conn_, sources, [target]))
        spent["leak guard"] += seconds
        seconds, _ = timed(lambda: guards.guard_detectors(conn_, spec, [target]))
        spent["detectors"] += seconds

    context = {"ds": DS, "run_id": "bench"}
    schemas = {"silver": BENCH_SILVER, "gold": "gold"}
    seconds, rows = timed(lambda: build_model(conn, "customer_360", context, schemas=schemas,
                                              before_commit=lambda c: guard(c, "gold.customer_360",
                                                                            "gold.customer_360")))
    print(f"\ngold.customer_360 ({rows:,} rows) with both guards before its commit")
    _shares(seconds, spent)
    spent.update({"leak guard": 0.0, "detectors": 0.0})
    ai_spec = spec.ai_ready
    seconds, manifest = timed(lambda: publish_ai_ready(
        conn, ai_spec, f"file://{lake}", keys.hmac_key, "bench", DS,
        before_publish=lambda c, relation, values: guard(c, relation, f"ai_ready.{ai_spec.name}", values)))
    print(f"publish_ai_ready {ai_spec.name} ({manifest.total_rows:,} rows) with both guards before the lake "
          "and the table change")
    _shares(seconds, spent)


def _shares(total: float, spent: dict[str, float]) -> None:
    line("stage (build + guards)", total)
    for name, seconds in spent.items():
        line(name, seconds, f"{seconds / total:.1%} of the stage")
    line("both guards", sum(spent.values()), f"{sum(spent.values()) / total:.1%} of the stage (target < 10%)")


def planted_leak_step(conn: Any, spec: Any, findings: list[Any], keys: Any, ds: str) -> None:
    """On the small slice: a clean build, then leaks planted in bronze and the build again."""
    from atlas.errors import AtlasPiiLeakError

    build_silver_step(conn, spec, findings, keys, ds)
    snapshot = (f"SELECT count(*), md5(string_agg(customer_id || coalesce(notes, '') || coalesce(city, ''), ',' "
                f"ORDER BY customer_id)), (SELECT count(*) FROM silver.{TABLE}) FROM silver.{TABLE} "
                "WHERE _atlas_logical_date = %s")
    with conn.cursor() as cur:
        cur.execute(snapshot, (ds,))
        before = cur.fetchone()
        # raw phone numbers of other customers inside 25 notes, a raw email as one city
        cur.execute(f"""
            UPDATE bronze.{TABLE} b SET notes = 'Call back on ' || o.phone_number || ' after 16:00.'
            FROM bronze.{TABLE} o
            WHERE b._atlas_logical_date = %s AND o._atlas_logical_date = %s
              AND b._atlas_row_number BETWEEN 1000 AND 1024 AND o._atlas_row_number = b._atlas_row_number + 500""",
                    (ds, ds))
        cur.execute(f"""
            UPDATE bronze.{TABLE} b SET city = (SELECT email_address FROM bronze.{TABLE}
                                                WHERE _atlas_logical_date = %s AND _atlas_row_number = 7)
            WHERE b._atlas_logical_date = %s AND b._atlas_row_number = 77""", (ds, ds))
    conn.commit()
    print(f"\nplanted leaks in the {before[0]:,}-row slice (25 raw phone numbers of other customers inside notes, "
          "1 raw email as a city), silver rebuilt")
    try:
        build_silver_step(conn, spec, findings, keys, ds)
        print("  the guard did NOT fire")
    except AtlasPiiLeakError as exc:
        print(f"  build failed before commit: {exc}")
    with conn.cursor() as cur:
        cur.execute(snapshot, (ds,))
        after = cur.fetchone()
    conn.commit()
    print(f"  silver slice unchanged: {after == before}")


def copy_slice(conn: Any, rows: int, target: str, ds: str) -> None:
    """The first ``rows`` rows of the bronze slice, as date ``ds`` of ``target`` (created if needed)."""
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {target} (LIKE bronze.{TABLE})")
        cur.execute(f"DELETE FROM {target} WHERE _atlas_logical_date = %s", (ds,))
        cur.execute(f"CREATE TEMP TABLE small_slice AS SELECT * FROM bronze.{TABLE} WHERE _atlas_logical_date = %s "
                    "AND _atlas_row_number <= %s", (DS, rows))
        cur.execute("UPDATE small_slice SET _atlas_logical_date = %s", (ds,))
        cur.execute(f"INSERT INTO {target} SELECT * FROM small_slice")
        cur.execute("DROP TABLE small_slice")
        cur.execute(f"ANALYZE {target}")
    conn.commit()


def stall_step(conn: Any, columns: list[str], rows: int) -> None:
    """The previous guard's raw-value query on a small slice of its own table, one plan, workers
    launched or not."""
    copy_slice(conn, rows, "bronze.guard_stall", SMALL_DS)
    print(f"\nwhy the previous guard stalled: its raw-value query on a {rows:,}-row slice, the same plan, "
          "work_mem 1MB (as 4MB is for a larger slice)")
    forced = {"work_mem": "1MB", "parallel_setup_cost": 0, "parallel_tuple_cost": 0,
              "min_parallel_table_scan_size": 0, "enable_sort": "off", "statement_timeout": "300s"}
    query = old_raw_values_query(conn, columns, SMALL_DS, "bronze.guard_stall")
    runs = [("no worker launched (max_parallel_workers = 0)", 0)] + [(f"2 workers launched, try {n}", 8)
                                                                     for n in (1, 2, 3)]
    for label, launched in runs:  # the stall depends on how the workers' output interleaves
        with settings(conn, max_parallel_workers=launched, **forced):
            seconds, result = timed(lambda: plan(conn, query, analyze=True))
        node = result["Plan"]
        gather = find(node, lambda n: n["Node Type"] == "Gather")
        lower = find(gather, lambda n: n["Node Type"] == "Aggregate") if gather else None
        modes = "/".join(str(n.get("Partial Mode")) for n in (node, lower) if n)
        lower_batches = [lower.get("HashAgg Batches"), *(w.get("HashAgg Batches") for w in lower.get("Workers", []))]
        print(f"  {label}: {seconds:.2f} s; plan {shape(node)} (aggregate modes {modes}); upper aggregate: "
              f"{node.get('HashAgg Batches'):,} batches for {node.get('Actual Rows'):,.0f} groups; lower "
              f"aggregates: {lower_batches} batches")
        if launched and node.get("HashAgg Batches", 0) > node.get("Actual Rows", 0) / 10:
            break
    with conn.cursor() as cur:
        cur.execute("DROP TABLE bronze.guard_stall")
    conn.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--old-timeout", type=int, default=120, help="seconds before stopping the previous guard")
    parser.add_argument("--skip-old", action="store_true", help="do not time the previous guard")
    args = parser.parse_args()

    from atlas import settings as atlas_settings
    from atlas.config import load_table_spec
    from atlas.operators.guards import structured_pii_columns
    from atlas.pii import ColumnFinding
    from atlas.pii.keys import generate_keys
    from atlas.warehouse import connect, embedded, ensure_warehouse

    data_dir = Path(tempfile.gettempdir(), "atlas-bench-guard", "pgdata")
    lake = Path(tempfile.gettempdir(), "atlas-bench-guard", "lake")
    if not embedded.is_running(data_dir):
        shutil.rmtree(data_dir.parent, ignore_errors=True)
    conn = connect(embedded.ensure_running(data_dir))
    try:
        ensure_warehouse(conn)
        base = load_table_spec(atlas_settings.tables_dir() / "customers.yml", {"retries": 2})
        spec = base.model_copy(update={"table": TABLE})
        # the structured columns are protected by their configured policy; notes carry no PII here
        findings = [ColumnFinding(c, "structured", (p.entity or "PII",), 1.0, 1.0, 0, (), p.strategy, "config")
                    for c, p in spec.pii.columns.items() if not p.free_text]
        columns = structured_pii_columns(findings)
        keys = generate_keys()
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            version = cur.fetchone()[0]
            cur.execute("SELECT name, setting, unit FROM pg_settings WHERE name IN ('work_mem', "
                        "'hash_mem_multiplier', 'max_parallel_workers_per_gather', 'dynamic_shared_memory_type', "
                        "'shared_buffers')")
            server = ", ".join(f"{n}={s}{u or ''}" for n, s, u in cur.fetchall())
        conn.commit()
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"PostgreSQL {version} ({server}); {os.cpu_count()} cores, load average {load}")
        print(f"guarded columns: {', '.join(columns)}")

        seconds, _ = timed(lambda: generate_bronze(conn, spec, args.rows, DS))
        print(f"\ngenerated {args.rows:,} bronze rows in {seconds:.1f} s")

        seconds, guard_seconds, result = build_silver_step(conn, spec, findings, keys)
        print(f"build_silver: {result.silver_rows:,} silver, {result.quarantined_rows:,} quarantined, "
              f"{result.duplicates_removed:,} duplicates")
        line("stage (build_silver with the in-build guard)", seconds)
        line("in-build leak guard", guard_seconds, f"{guard_seconds / seconds:.1%} of the stage (target < 10%)")

        if not args.skip_old:
            old_guard_step(conn, columns, args.old_timeout)
        new_guard_step(conn, columns)

        seconds, _ = timed(lambda: generate_orders(conn, args.orders))
        print(f"\ngenerated {args.orders:,} silver orders in {seconds:.1f} s")
        gold_and_ai_ready_step(conn, spec, columns, keys, lake)
        small = min(20_000, args.rows)
        stall_step(conn, columns, small)
        copy_slice(conn, small, f"bronze.{TABLE}", SMALL_DS)
        planted_leak_step(conn, spec, findings, keys, SMALL_DS)
        print(json.dumps({"load_average_end": os.getloadavg()}))
    finally:
        conn.close()
        embedded.stop(data_dir)
        shutil.rmtree(data_dir.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
