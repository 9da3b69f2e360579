"""Benchmark: Atlas's page in the Airflow UI on the demo warehouse (run ``make demo`` first).

    .venv/bin/python benchmarks/bench_dashboard.py [--history 365] [--repeat 20] [--no-browser]

1. The page's reads (``atlas.dashboard.report.day_report``: one set-based query per section)
   against the naive way (one query per metric, reason, column, check, and per day and
   dimension of the trend), on the demo's latest date — then again with ``--history`` earlier
   days of ``atlas_meta`` rows (copies of the demo day, added in a transaction that is rolled
   back). Both ways must return the same document.
2. A real api-server with the plugin on the demo's ``ATLAS_HOME`` (its own port, only the
   api-server): time of ``GET /atlas/`` (the page) and ``GET /atlas/api/v1/tables/<t>/latest``
   over HTTP, and, with Chromium installed, the page in a headless browser from navigation to
   the charts drawn (first visit with an empty cache, then a repeat visit).

Target: the page loads in under 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ATLAS_HOME", str(ROOT / ".atlas"))
os.environ.setdefault("OTEL_SDK_DISABLED", "true")
TARGET_SECONDS = 1.0


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def line(label: str, times: list[float], queries: int | None = None) -> str:
    extra = f"   {queries} queries" if queries is not None else ""
    return (f"  {label:<34} median {statistics.median(times) * 1000:8.1f} ms   "
            f"max {max(times) * 1000:8.1f} ms{extra}")


# ---------------------------------------------------------------------------- the naive way


class CountingConn:
    """Wraps a connection and counts executed statements (both ways are measured with it)."""

    def __init__(self, conn: Any) -> None:
        self.conn, self.queries = conn, 0

    def cursor(self) -> Any:
        outer = self

        class Cursor:
            def __init__(self) -> None:
                self.cur = outer.conn.cursor()

            def __enter__(self) -> Cursor:
                return self

            def __exit__(self, *exc: Any) -> None:
                self.cur.close()

            def execute(self, sql: str, params: Any = None) -> None:
                outer.queries += 1
                self.cur.execute(sql, params)

            def fetchall(self) -> list[Any]:
                return self.cur.fetchall()

            def fetchone(self) -> Any:
                return self.cur.fetchone()

        return Cursor()


def _one(conn: Any, sql: str, params: tuple[Any, ...]) -> Any:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
        return row[0] if row else None


def _all(conn: Any, sql: str, params: tuple[Any, ...]) -> list[Any]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def naive_report(conn: Any, spec: Any, ds: str, days: int) -> dict[str, Any]:
    """The same document, read the naive way: a query per figure."""
    from atlas.dashboard import queries
    from atlas.quality.model import DIMENSIONS

    t = spec.table
    doc: dict[str, Any] = {}
    # rows per layer: one query per figure
    ingest = {m: _one(conn, f"SELECT sum({expr}) FROM atlas_meta.ingested_files WHERE table_name = %s "
                            "AND logical_date = %s", (t, ds))
              for m, expr in (("landed", "row_count + rejected_rows"), ("malformed", "rejected_rows"),
                              ("loaded", "row_count"))}
    files = _one(conn, "SELECT count(*) FROM atlas_meta.ingested_files WHERE table_name = %s AND logical_date = %s",
                 (t, ds))
    silver = {m: _one(conn, "SELECT value FROM atlas_meta.run_metrics WHERE table_name = %s AND stage = 'silver' "
                            "AND metric = %s AND logical_date = %s", (t, m, ds)) for m in queries.SILVER_METRICS}
    doc["layers"] = {"rows": {"landed": ingest["landed"], "malformed": ingest["malformed"],
                              "bronze": silver["bronze_rows"], "silver": silver["silver_rows"],
                              "quarantined": silver["quarantined_rows"], "duplicates": silver["duplicates_removed"],
                              "superseded": silver["superseded_rows"]}, "files": files}
    # quarantine: the distinct reasons, then a count per reason
    reasons = _all(conn, f"SELECT DISTINCT _atlas_stage, _atlas_rule, _atlas_reason FROM quarantine.{t} "
                         "WHERE _atlas_logical_date = %s", (ds,))
    doc["quarantine"] = sorted(
        ((s, r, why, _one(conn, f"SELECT count(*) FROM quarantine.{t} WHERE _atlas_logical_date = %s AND "
                                "_atlas_stage = %s AND _atlas_rule = %s AND _atlas_reason = %s", (ds, s, r, why)))
         for s, r, why in reasons), key=lambda x: (-x[3], x[0], x[1], x[2]))
    # PII: one query per column
    doc["pii"] = [_all(conn, "SELECT kind, entity_types, hit_rate, strategy, policy_source FROM "
                             "atlas_meta.pii_findings WHERE table_name = %s AND column_name = %s AND logical_date = %s",
                       (t, c, ds)) for c in spec.table_schema.column_names]
    # quality trend: one query per day and dimension
    trend: dict[str, list[tuple[str, float]]] = {}
    start = date.fromisoformat(ds) - timedelta(days=days - 1)
    for offset in range(days):
        day = (start + timedelta(days=offset)).isoformat()
        for dim in ("overall", *DIMENSIONS):
            where = "" if dim == "overall" else " AND dimension = %s"
            params = (t, day) if dim == "overall" else (t, day, dim)
            checks, score = _all(conn, "SELECT count(*), round(100.0 * count(*) FILTER (WHERE outcome = 'pass') "
                                       "/ nullif(count(*), 0), 1) FROM atlas_meta.quality_results "
                                       f"WHERE table_name = %s AND logical_date = %s{where}", params)[0]
            if checks:
                trend.setdefault(dim, []).append((day, float(score)))
    doc["trend"] = trend
    # checks of the day: the names, then each check's result
    checks = _all(conn, "SELECT layer, table_name, check_name FROM atlas_meta.quality_results WHERE logical_date = %s "
                        "AND (table_name = %s OR (layer = 'gold' AND table_name = ANY(%s)))",
                  (ds, t, list(spec.gold.models)))
    results = [(layer, name, check, *_all(conn, "SELECT outcome, measured_value FROM atlas_meta.quality_results "
                                               "WHERE table_name = %s AND layer = %s AND check_name = %s "
                                               "AND logical_date = %s", (name, layer, check, ds))[0])
               for layer, name, check in checks]
    doc["not_passed"] = sorted(r for r in results if r[3] != "pass")
    # outputs: one query per gold model
    doc["gold"] = [_one(conn, "SELECT value FROM atlas_meta.run_metrics WHERE table_name = %s AND stage = 'gold' "
                              "AND metric = 'rows' AND logical_date = %s", (m, ds)) for m in spec.gold.models]
    return doc


def same_document(fast: dict[str, Any], naive: dict[str, Any]) -> bool:
    layers = {k: (None if v is None else int(v)) for k, v in naive["layers"]["rows"].items()}
    trend = {d: [(p["day"], p["score"]) for p in points] for d, points in fast["quality"]["trend"].items()}
    return (fast["layers"]["rows"] == layers
            and [(r["stage"], r["rule"], r["reason"], r["rows"]) for r in fast["quarantine"]["reasons"]]
            == [tuple(q) for q in naive["quarantine"]][:len(fast["quarantine"]["reasons"])]
            and trend == naive["trend"]
            and sorted((c["layer"], c["dataset"], c["check"], c["outcome"]) for c in fast["quality"]["not_passed"])
            == [r[:4] for r in naive["not_passed"]]
            and [g["rows"] for g in fast["outputs"]["gold"]] == [None if g is None else int(g) for g in naive["gold"]])


# ---------------------------------------------------------------------------- history


def add_history(conn: Any, table: str, ds: str, days: int) -> int:
    """Copies of ``ds``'s atlas_meta and quarantine rows on the ``days`` days before it (caller rolls back)."""
    added = 0
    with conn.cursor() as cur:
        for name, columns in (
            ("ingested_files", "table_name, source_checksum, source_file, archive_path, run_id, row_count, "
                               "rejected_rows"),
            ("pii_findings", "table_name, column_name, kind, entity_types, confidence, hit_rate, rows_scanned, "
                             "recognizers, strategy, policy_source, run_id"),
            ("quality_results", "table_name, layer, check_name, dimension, severity, outcome, measured_value, "
                                "threshold, run_id"),
            ("quality_scores", "table_name, layer, dimension, score, checks, passed, warned, failed, run_id"),
            ("run_metrics", "table_name, stage, metric, value, run_id"),
        ):
            # every 7th day one check more fails, so the trend is not flat
            select = columns.replace(
                "outcome", "CASE WHEN d %% 7 = 0 AND severity = 'warn' THEN 'warn' ELSE outcome END")
            cur.execute(f"""
                INSERT INTO atlas_meta.{name} ({columns}, logical_date)
                SELECT {select}, %(ds)s::date - d FROM atlas_meta.{name}, generate_series(1, %(days)s) AS d
                WHERE logical_date = %(ds)s AND (table_name = %(table)s OR %(name)s IN ('quality_results',
                      'quality_scores', 'run_metrics'))
                ON CONFLICT DO NOTHING""", {"ds": ds, "days": days, "table": table, "name": name})
            added += cur.rowcount
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'quarantine' "
                    "AND table_name = %s ORDER BY ordinal_position", (table,))
        columns = [f'"{c}"' for (c,) in cur.fetchall()]
        select = ", ".join("%(ds)s::date - d" if c == '"_atlas_logical_date"' else c for c in columns)
        cur.execute(f"INSERT INTO quarantine.{table} ({', '.join(columns)}) SELECT {select} "
                    f"FROM quarantine.{table}, generate_series(1, %(days)s) AS d WHERE _atlas_logical_date = %(ds)s",
                    {"ds": ds, "days": days})
        added += cur.rowcount
        for name in ("ingested_files", "pii_findings", "quality_results", "quality_scores", "run_metrics"):
            cur.execute(f"ANALYZE atlas_meta.{name}")
        cur.execute(f"ANALYZE quarantine.{table}")
    return added


# ---------------------------------------------------------------------------- HTTP and browser


def start_api_server(airflow_home: Path) -> tuple[str, Any, str]:
    """Only the api-server (with the plugin) on the demo's Airflow home, on a free port."""
    from tests.helpers.airflow_server import free_port, server_env, wait_until

    port = free_port()
    env = server_env(airflow_home, port, 1, {"AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"})
    log = (Path(tempfile.gettempdir()) / f"atlas-bench-dashboard-{port}.log").open("wb")
    process = subprocess.Popen(["airflow", "api-server"], env=env, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True, cwd=airflow_home)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        import httpx

        if process.poll() is not None:
            raise SystemExit(f"the api-server exited; see {log.name}")
        return httpx.get(f"{base}/api/v2/monitor/health", timeout=5).status_code == 200

    wait_until(up, 180, "the api-server")
    return base, process, log.name


def browser_load(base: str, token: str, path: str, visits: int) -> list[dict[str, float]]:
    """Per visit (first visit first), seconds from navigation start to: the HTML received, the first
    paint (tables and numbers), plotly.js loaded and run, the charts drawn (the page script's marks)."""
    from tests.helpers.airflow_server import wait_until
    from tests.helpers.chromium import headless_chromium

    times = []
    mark = "performance.getEntriesByName('atlas-charts-rendered')[0]"
    with tempfile.TemporaryDirectory(prefix="atlas-bench-chromium-") as profile, \
            headless_chromium(Path(profile), width=1440, height=1400) as browser:
        browser.call("Network.setCookie", name="_token", value=token, url=f"{base}/")
        for _ in range(visits):
            browser.call("Page.navigate", url=f"{base}{path}")
            wait_until(lambda: browser.evaluate(f"!!{mark} && location.href.startsWith('{base}')"), 60,
                       "the charts", interval=0.05)
            times.append(browser.evaluate(
                "({html: performance.getEntriesByType('navigation')[0].responseEnd / 1000, "
                "paint: performance.getEntriesByName('first-contentful-paint')[0].startTime / 1000, "
                "plotly: performance.getEntriesByName('atlas-script-start')[0].startTime / 1000, "
                f"charts: {mark}.startTime / 1000}})"))
            browser.call("Page.navigate", url="about:blank")
            wait_until(lambda: browser.evaluate("location.href") == "about:blank", 10, "a blank page", interval=0.05)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=int, default=365, help="earlier days of atlas_meta rows to add (rolled back)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--days", type=int, default=30, help="days of quality trend the page shows")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--visits", type=int, default=6, help="page visits in the browser (the first is cold)")
    args = parser.parse_args()

    from atlas import runtime_env, settings

    runtime_env.configure()
    from airflow.utils.session import create_session

    from atlas.config import load_valid_specs
    from atlas.dashboard.report import day_report
    from atlas.warehouse import connect, resolve_dsn

    specs = load_valid_specs(settings.tables_dir())
    conn = connect(resolve_dsn())
    with conn.cursor() as cur:
        cur.execute("SELECT table_name, max(logical_date)::text FROM atlas_meta.run_metrics WHERE stage = 'silver' "
                    "GROUP BY 1 ORDER BY 1")
        latest = dict(cur.fetchall())
    conn.rollback()
    if not latest:
        raise SystemExit(f"no Atlas results in the warehouse of {settings.atlas_home()}: run `make demo` first")
    table = "customers" if "customers" in latest else min(latest)
    spec, ds = specs[table], latest[table]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Atlas page for {table} on {ds} ({settings.atlas_home()}), {os.cpu_count()} cores, load average {load}")

    print(f"\n1. reading the document ({args.repeat} times each)")
    cases = (("demo warehouse", 0, args.days), (f"+ {args.history} earlier days", args.history, args.days),
             (f"+ {args.history} earlier days", args.history, 365))
    with create_session() as session:
        for label, history, days in cases:
            if history and days == args.days:
                added = add_history(conn, table, ds, history)
                print(f"  added {added:,} atlas_meta and quarantine rows for {history} earlier days "
                      "(rolled back at the end)")
            counted = CountingConn(conn)
            fast_doc = day_report(counted, session, spec, ds, days)
            fast_queries, counted.queries = counted.queries, 0
            naive_doc = naive_report(counted, spec, ds, days)
            if not same_document(fast_doc, naive_doc):
                raise SystemExit("the naive reads disagree with the page's reads")
            fast = timed(lambda: day_report(conn, session, spec, ds, days), args.repeat)  # noqa: B023
            naive = timed(lambda: naive_report(conn, spec, ds, days), args.repeat)  # noqa: B023
            print(f" {label} (trend of {days} days):")
            print(line("set-based (the page)", fast, fast_queries))
            print(line("naive (a query per figure)", naive, counted.queries))
            print(f"  {'':<34} naive / set-based: {statistics.median(naive) / statistics.median(fast):.1f}x")
    conn.rollback()
    conn.close()

    print("\n2. over HTTP: a real api-server with the plugin on the demo's Airflow home")
    from atlas.ui import admin_password
    from tests.helpers.airflow_server import ApiClient, stop_all

    airflow_home = Path(os.environ["AIRFLOW_HOME"])
    started = time.perf_counter()
    base, process, log = start_api_server(airflow_home)
    print(f"  api-server up in {time.perf_counter() - started:.1f} s ({base}, log {log})")
    try:
        anonymous = ApiClient(base)
        token = anonymous.json("POST", "/auth/token", expect=201,
                               json={"username": "admin", "password": admin_password(airflow_home)})["access_token"]
        client = ApiClient(base, token)
        page, api = f"/atlas/?table={table}&ds={ds}&days={args.days}", f"/atlas/api/v1/tables/{table}/{ds}"
        first = timed(lambda: client.json("GET", api), 1)[0]  # builds the app on the first request

        def get(path: str) -> None:
            if client.request("GET", path).status_code != 200:
                raise SystemExit(f"GET {path} failed")

        page_times, api_times = timed(lambda: get(page), args.repeat), timed(lambda: get(api), args.repeat)
        print(f"  first request (builds the app, imports plotly): {first * 1000:.0f} ms")
        print(line("GET page (HTML with chart data)", page_times))
        print(line("GET JSON API (whole document)", api_times))
        worst = statistics.median(page_times)
        if not args.no_browser:
            from tests.helpers.chromium import chromium_path

            if chromium_path():
                visits = browser_load(base, token, page, args.visits)
                print("  headless Chromium, ms from navigation start (first visit: empty cache):")
                for label, visit in (("first visit", visits[0]),
                                     ("repeat visits (median)", {k: statistics.median(v[k] for v in visits[1:])
                                                                 for k in visits[0]})):
                    ms = {k: f"{v * 1000:5.0f}" for k, v in visit.items()}
                    print(f"  {label:<24} HTML {ms['html']}   first paint {ms['paint']}   "
                          f"plotly.js run {ms['plotly']}   charts drawn {ms['charts']}")
                worst = max(worst, statistics.median(v["charts"] for v in visits[1:]))
            else:
                print("  (Chromium not installed: no browser timing)")
        print(f"\n  target: the page in under {TARGET_SECONDS:.0f} s -> "
              f"{'met' if worst < TARGET_SECONDS else 'MISSED'} ({worst * 1000:.0f} ms)")
        anonymous.close()
        client.close()
    finally:
        stop_all([process])
    return 0


if __name__ == "__main__":
    sys.exit(main())
