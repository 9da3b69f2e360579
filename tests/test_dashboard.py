"""Atlas's page in the Airflow UI, on a real api-server with the plugin and real DAG runs.

One server (api-server, scheduler, dag-processor; its own warehouse, landing area and lake)
runs ``atlas_customers`` for two logical dates through the REST API, then the tests read the
page and its JSON API over HTTP and compare every figure with ``atlas_meta`` (and the runs with
Airflow's REST API); a headless Chromium logs in through Airflow's login page, opens the page
inside the UI and checks that plotly drew the charts and that no landed value shows.
"""

from __future__ import annotations

import csv
import html
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from atlas import settings
from tests.helpers.airflow_server import (
    AirflowServer,
    ApiClient,
    airflow_server,
    wait_for_dag,
    wait_for_run,
    wait_until,
)
from tests.helpers.atlas_home import AtlasHome, isolated_atlas_home
from tests.helpers.chromium import chromium_path, headless_chromium

pytestmark = pytest.mark.slow

DAG_ID = "atlas_customers"
DATES = ("2026-11-09", "2026-11-10")
CUSTOMERS = 300
STAGES = ["wait_for_source", "ingest_bronze", "detect_pii", "plan_silver", "stage_silver", "build_silver",
          "check_quality", "build_gold", "publish_ai_ready"]
MARQUEZ = "http://marquez.example:3000"
# landed columns whose values must never show (postal codes and cities are too short or too common
# to tell apart from counts and words on the page)
RAW_COLUMNS = ("customer_id", "customer_name", "email_address", "phone_number", "cpr_number", "address",
               "date_of_birth", "notes")
SCREENSHOT_ENV = "ATLAS_DASHBOARD_SCREENSHOT"  # also write the screenshot here (docs/img/atlas-dashboard.png)


@pytest.fixture(scope="module")
def home() -> Iterator[AtlasHome]:
    with isolated_atlas_home(settings.atlas_home() / "dashboard") as atlas_home:
        yield atlas_home


class RawValues(dict[str, set[str]]):
    """Raw landed values by column; its repr shows sizes only, so a failing test never prints a value."""

    def __repr__(self) -> str:
        return f"<raw values: {', '.join(f'{c} {len(v)}' for c, v in self.items())}>"


@pytest.fixture(scope="module")
def raw_values(home: AtlasHome) -> RawValues:
    """Sample extracts for both dates at the configured landing path; their raw values by column."""
    from atlas import sample_data

    values = RawValues({c: set() for c in RAW_COLUMNS})
    for seed, ds in enumerate(DATES, start=31):
        sample_data.generate(home.landing, ds, customers=CUSTOMERS, orders=0, seed=seed)
        with (home.landing / "customers" / ds / "customers.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                for column in RAW_COLUMNS:
                    if len(row[column] or "") >= 6:
                        values[column].add(row[column])
    return values


@pytest.fixture(scope="module")
def airflow(home: AtlasHome) -> Iterator[AirflowServer]:
    env = {**home.env, "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False", "ATLAS_MARQUEZ_URL": MARQUEZ}
    with airflow_server(home.path / "airflow", extra_env=env) as server:
        yield server
    assert not server.session_processes(), "every process the server started has ended"


@pytest.fixture(scope="module")
def api(airflow: AirflowServer) -> Iterator[ApiClient]:
    client = airflow.client()
    wait_for_dag(client, DAG_ID, timeout=180)
    yield client
    client.close()


@pytest.fixture(scope="module")
def runs(airflow: AirflowServer, api: ApiClient, raw_values: RawValues) -> dict[str, dict[str, Any]]:
    """Both dates triggered through the REST API and run to the end: {ds: run}."""
    triggered = {}
    for ds in DATES:
        body = api.json("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": f"{ds}T00:00:00Z", "conf": {}})
        triggered[ds] = body["dag_run_id"]
    api.json("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False})
    finished = {ds: wait_for_run(api, DAG_ID, run_id, timeout=600, check=airflow.check_alive)
                for ds, run_id in triggered.items()}
    assert {ds: run["state"] for ds, run in finished.items()} == dict.fromkeys(DATES, "success")
    return finished


@pytest.fixture(scope="module")
def wh(home: AtlasHome, runs: dict[str, Any]) -> Iterator[Any]:
    from atlas.warehouse import connect

    conn = connect(home.dsn)
    conn.autocommit = True
    yield conn
    conn.close()


def _rows(conn: Any, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _day(api: ApiClient, ds: str, suffix: str = "") -> dict[str, Any]:
    return api.json("GET", f"/atlas/api/v1/tables/customers/{ds}{suffix}")


def _leaks(text: str, raw_values: RawValues) -> dict[str, int]:
    """How many raw values of each column occur in ``text`` (as is, HTML- or JSON-escaped): counts, never values.

    Callers assert on the result held in a variable, so a failure shows counts and not ``text``.
    """
    found = {}
    for column, values in raw_values.items():
        hits = sum(1 for v in values if v in text or html.escape(v) in text or json.dumps(v)[1:-1] in text)
        if hits:
            found[column] = hits
    return found


# ------------------------------------------------------------------ registration and access


def test_plugin_is_registered_with_the_api_server(api: ApiClient) -> None:
    plugins = {p["name"]: p for p in api.json("GET", "/api/v2/plugins")["plugins"]}
    plugin = plugins["atlas_dashboard"]
    assert [(a["url_prefix"], a["name"]) for a in plugin["fastapi_apps"]] == [("/atlas", "Atlas")]
    assert [(v["url_route"], v["href"], v["destination"]) for v in plugin["external_views"]] == [
        ("atlas", "/atlas/", "nav")]
    assert plugin["source"].endswith("atlas_dashboard_plugin.py")


DATA_PATHS = ("/atlas/", "/atlas/?table=customers&ds=2026-11-10", "/atlas/api/v1/tables",
              "/atlas/api/v1/tables/customers/latest", "/atlas/api/v1/tables/customers/2026-11-10/layers",
              "/atlas/api/v1/tables/nope/2026-11-10")


def test_no_data_without_a_logged_in_user(airflow: AirflowServer, runs: dict[str, Any]) -> None:
    anonymous = ApiClient(airflow.base_url)
    forged = ApiClient(airflow.base_url, token="not.a.jwt")
    try:
        for path in DATA_PATHS:
            refused = anonymous.request("GET", path)
            assert refused.status_code == 401, path
            assert "landed" not in refused.text and "customer_name" not in refused.text, path
            assert forged.request("GET", path).status_code == 403, path
            assert anonymous.request("GET", path, cookies={"_token": "not.a.jwt"}).status_code == 403, path
        page = anonymous.request("GET", "/atlas/")
        assert "/auth/login?next=" in page.text, "the refusal page points at Airflow's login"
    finally:
        anonymous.close()
        forged.close()


def test_the_ui_cookie_is_a_login(airflow: AirflowServer, runs: dict[str, Any]) -> None:
    browser_like = ApiClient(airflow.base_url)
    try:
        response = browser_like.request("GET", "/atlas/api/v1/tables", cookies={"_token": airflow.token()})
        assert response.status_code == 200
        assert [t["table"] for t in response.json()["tables"]] == ["customers", "orders"]
    finally:
        browser_like.close()


@pytest.mark.parametrize(("path", "message"), [
    ("/atlas/api/v1/tables/nope/2026-11-10", "unknown table 'nope' (known: customers, orders)"),
    ("/atlas/api/v1/tables/customers;drop/latest", "unknown table 'customers;drop'"),
    ("/atlas/api/v1/tables/customers/2026-13-01", "malformed date '2026-13-01': no such calendar day"),
    ("/atlas/api/v1/tables/customers/2026-11-1", "malformed date '2026-11-1': expected YYYY-MM-DD or 'latest'"),
    ("/atlas/api/v1/tables/customers/yesterday", "malformed date 'yesterday'"),
    ("/atlas/api/v1/tables/customers/2026-11-10?days=0", "malformed days '0'"),
    ("/atlas/api/v1/tables/customers/2026-11-10?days=x", "malformed days 'x'"),
    ("/atlas/api/v1/tables/customers/2026-11-10/bogus", "unknown section 'bogus'"),
    ("/atlas/api/v1/tables/nope/2026-11-10/layers", "unknown table 'nope'"),
    ("/atlas/api/v1/tables/customers/bad/layers", "malformed date 'bad'"),
])
def test_bad_parameters_get_400_naming_the_problem(api: ApiClient, path: str, message: str) -> None:
    response = api.request("GET", path)
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_bad_page_parameters_get_a_400_page(api: ApiClient) -> None:
    for query, message in (("table=nope", "unknown table"), ("ds=2026-02-30", "no such calendar day"),
                           ("table=<script>", "unknown table")):
        response = api.request("GET", f"/atlas/?{query}")
        assert response.status_code == 400 and message in response.text
        assert "<script>" not in response.text, "parameters are escaped, never rendered as HTML"


# ------------------------------------------------------------------ the JSON API against atlas_meta


def test_tables_list_dates_with_data(api: ApiClient, runs: dict[str, Any]) -> None:
    tables = {t["table"]: t for t in api.json("GET", "/atlas/api/v1/tables")["tables"]}
    assert tables["customers"]["dates"] == sorted(DATES, reverse=True)
    assert tables["customers"]["dag_id"] == DAG_ID and tables["orders"]["dates"] == []
    assert _day(api, "latest")["logical_date"] == max(DATES)


@pytest.mark.parametrize("ds", DATES)
def test_rows_per_layer_match_atlas_meta(api: ApiClient, wh: Any, ds: str) -> None:
    layers = _day(api, ds)["layers"]
    landed, malformed = _rows(wh, "SELECT sum(row_count + rejected_rows), sum(rejected_rows) "
                                  "FROM atlas_meta.ingested_files WHERE table_name = 'customers' "
                                  "AND logical_date = %s", ds)[0]
    metrics = dict(_rows(wh, "SELECT metric, value FROM atlas_meta.run_metrics WHERE table_name = 'customers' "
                             "AND stage = 'silver' AND logical_date = %s", ds))
    assert layers["rows"] == {
        "landed": landed, "malformed": malformed, "bronze": metrics["bronze_rows"],
        "silver": metrics["silver_rows"], "quarantined": metrics["quarantined_rows"],
        "duplicates": metrics["duplicates_removed"], "superseded": metrics["superseded_rows"]}
    assert layers["rows"]["landed"] == CUSTOMERS and layers["rows"]["duplicates"] > 0
    assert layers["reconciliation"]["status"] == "reconciled"
    assert all(c["ok"] for c in layers["reconciliation"]["checks"]) and len(layers["reconciliation"]["checks"]) == 3


@pytest.mark.parametrize("ds", DATES)
def test_quarantine_by_reason_matches_the_quarantine_table(api: ApiClient, wh: Any, ds: str) -> None:
    quarantine = _day(api, ds)["quarantine"]
    expected = _rows(wh, "SELECT _atlas_stage, _atlas_rule, _atlas_reason, count(*) FROM quarantine.customers "
                         "WHERE _atlas_logical_date = %s GROUP BY 1, 2, 3", ds)
    assert sorted((r["stage"], r["rule"], r["reason"], r["rows"]) for r in quarantine["reasons"]) == sorted(expected)
    assert quarantine["total"] == sum(n for *_, n in expected) > 0
    assert quarantine["reprocess_command"] == f"python -m atlas.reprocess customers {ds}"


def test_pii_findings_match_atlas_meta_without_values(api: ApiClient, wh: Any) -> None:
    ds = DATES[-1]
    pii = _day(api, ds)["pii"]
    expected = _rows(wh, "SELECT column_name, kind, entity_types, round(hit_rate::numeric, 4)::float, strategy, "
                         "policy_source FROM atlas_meta.pii_findings WHERE table_name = 'customers' "
                         "AND logical_date = %s AND (kind <> 'none' OR policy_source <> 'none')", ds)
    assert sorted((c["column"], c["kind"], c["entity_types"], c["hit_rate"], c["strategy"], c["policy_source"])
                  for c in pii["columns"]) == sorted((c, k, list(e), h, s, p) for c, k, e, h, s, p in expected)
    by_column = {c["column"]: c for c in pii["columns"]}
    assert by_column["email_address"]["strategy"] == "pseudonymize" and by_column["notes"]["kind"] == "free_text"
    assert set(by_column["notes"]) == {"column", "kind", "entity_types", "confidence", "hit_rate", "rows_scanned",
                                       "recognizers", "strategy", "policy_source", "run_id"}, "no sample values"


def test_quality_scores_trend_and_failed_checks_match_atlas_meta(api: ApiClient, wh: Any) -> None:
    ds = DATES[-1]
    quality = _day(api, ds, "?days=7")["quality"]
    trend = _rows(wh, "SELECT dimension, day, score FROM atlas_meta.quality_daily_scores "
                      "WHERE table_name = 'customers' AND day > %s::date - 7 AND day <= %s", ds, ds)
    assert sorted((d, p["day"], p["score"]) for d, points in quality["trend"].items() for p in points) == sorted(
        (d, day.isoformat(), float(s)) for d, day, s in trend)
    assert [p["day"] for p in quality["trend"]["overall"]] == list(DATES), "one point per day"
    assert quality["day"]["overall"]["score"] == float(
        _rows(wh, "SELECT score FROM atlas_meta.quality_daily_scores WHERE table_name = 'customers' "
                  "AND dimension = 'overall' AND day = %s", ds)[0][0])
    not_passed = _rows(wh, "SELECT layer, table_name, check_name, outcome, measured_value "
                           "FROM atlas_meta.quality_results WHERE logical_date = %s AND outcome <> 'pass' "
                           "AND (table_name = 'customers' OR (layer = 'gold' AND table_name = 'customer_360'))", ds)
    assert sorted((c["layer"], c["dataset"], c["check"], c["outcome"], c["measured_value"])
                  for c in quality["not_passed"]) == sorted(not_passed)
    assert not_passed, "the sample data makes at least one check warn (freshness of old created_at)"
    layers = {(s["layer"], s["dataset"]) for s in quality["scores"]}
    assert {("bronze", "customers"), ("silver", "customers")} <= layers
    # customer_360 reads orders too: no orders arrived, so it was not built or checked for these dates
    assert ("gold", "customer_360") not in layers


def test_gold_and_ai_ready_outputs_match_atlas_meta(api: ApiClient, wh: Any) -> None:
    """Only customers arrived: the cross-table customer_360 and customer_features (built once orders
    are in too, by atlas_gold_customer_360) are listed without a build or a version for these dates."""
    for ds in DATES:
        outputs = _day(api, ds)["outputs"]
        gold_rows = _rows(wh, "SELECT value FROM atlas_meta.run_metrics WHERE table_name = 'customer_360' "
                              "AND stage = 'gold' AND metric = 'rows' AND logical_date = %s", ds)
        assert gold_rows == []
        assert [(g["table"], g["rows"]) for g in outputs["gold"]] == [("gold.customer_360", None)]
        version = _rows(wh, "SELECT version, row_count, manifest_path FROM atlas_meta.ai_ready_versions "
                            "WHERE dataset = 'customer_features' AND logical_date = %s", ds)
        assert version == [] and outputs["ai_ready"] == []


def test_runs_come_from_airflow_with_links(api: ApiClient, runs: dict[str, Any]) -> None:
    for ds, run in runs.items():
        doc = _day(api, ds)["runs"]
        assert [(r["run_id"], r["state"], r["recorded_in_atlas_meta"]) for r in doc["for_date"]] == [
            (run["dag_run_id"], "success", True)]
        assert doc["for_date"][0]["url"] == f"/dags/{DAG_ID}/runs/{quote(run['dag_run_id'], safe='')}"
        assert doc["tasks_of_run"] == run["dag_run_id"]
        # customers feed only the cross-table customer_360: build_gold and publish_ai_ready skip here
        assert [(t["task_id"], t["state"]) for t in doc["tasks"]] == [
            (s, "skipped" if s in ("build_gold", "publish_ai_ready") else "success") for s in STAGES]
        assert {r["run_id"] for r in doc["recent"]} == {r["dag_run_id"] for r in runs.values()}
    first = runs[DATES[0]]
    assert api.json("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(first['dag_run_id'], safe='')}")["state"] == \
        "success", "the link's run id is Airflow's"


def test_sections_are_the_documents_parts(api: ApiClient, runs: dict[str, Any]) -> None:
    whole = _day(api, DATES[0])
    for section in ("layers", "quarantine", "pii", "quality", "outputs", "lineage", "runs"):
        part = _day(api, DATES[0], f"/{section}")
        assert set(part) == {"table", "dag_id", "logical_date", section}
        assert part[section] == whole[section]
    assert whole["lineage"]["marquez_url"] == f"{MARQUEZ}/lineage/job/atlas/{DAG_ID}.build_silver"


def test_page_and_api_show_no_landed_value(api: ApiClient, raw_values: RawValues) -> None:
    assert sum(len(v) for v in raw_values.values()) > 1000
    for ds in DATES:
        page = api.request("GET", f"/atlas/?table=customers&ds={ds}")
        assert page.status_code == 200
        in_page = _leaks(page.text, raw_values)
        in_api = _leaks(json.dumps(_day(api, ds)), raw_values)
        assert in_page == {} and in_api == {}


def test_page_takes_plotly_from_the_plugin_not_a_cdn(api: ApiClient) -> None:
    import re

    page = api.request("GET", "/atlas/").text
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]+)"', page)
    assert len(scripts) == 2 and all(src.startswith("/atlas/static/") for src in scripts)
    assert "cdn" not in page.lower() and "https://" not in page
    plotly = api.request("GET", scripts[0], headers={"Accept-Encoding": "gzip"})
    assert plotly.status_code == 200 and plotly.headers["content-encoding"] == "gzip"
    assert "plotly.js v" in plotly.text[:500] and len(plotly.content) > 3_000_000
    assert "immutable" in plotly.headers["cache-control"]


# ------------------------------------------------------------------ the page in headless Chromium

FRAME = "document.querySelector('iframe[title=\"Atlas\"]')"
FRAME_DOC = f"({FRAME} && {FRAME}.contentDocument)"
CHARTS = f"""(() => {{
  const doc = {FRAME_DOC};
  return [...doc.querySelectorAll('.js-plotly-plot')].map(el => ({{
    id: el.id,
    traces: (el._fullData || []).length,
    values: (el._fullData || []).reduce((n, t) => n + ((t.y || []).length), 0),
    marks: el.querySelectorAll('.point, .scatterlayer path.js-line').length,
  }}));
}})()"""


def _log_in(browser: Any, base_url: str, password: str, next_path: str) -> None:
    """Airflow's own login page: type the admin's name and password, submit, land on ``next_path``."""
    browser.open(f"{base_url}/auth/login?next={quote(next_path)}",
                 ready="!!document.querySelector('input[name=password]')")
    for name, value in (("username", "admin"), ("password", password)):
        browser.evaluate(f"document.querySelector('input[name={name}]').focus()")
        browser.call("Input.insertText", text=value)
    browser.evaluate("document.querySelector('button[type=submit]').click()")
    wait_until(lambda: browser.evaluate("location.pathname") == next_path, 60, "the login to finish", interval=0.5)


@pytest.mark.skipif(chromium_path() is None and not os.environ.get("CI"),
                    reason="Chromium not installed (Debian: apt-get install -y chromium)")
def test_page_in_the_airflow_ui_draws_charts_and_no_values(airflow: AirflowServer, runs: dict[str, Any],
                                                           raw_values: RawValues) -> None:
    shot = airflow.airflow_home / "screenshots" / "atlas-dashboard.png"
    with headless_chromium(airflow.airflow_home / "chromium-dashboard", width=1440, height=1400) as browser:
        _log_in(browser, airflow.base_url, airflow.password(), "/plugin/atlas")
        wait_until(lambda: browser.evaluate(f"{FRAME_DOC} && {FRAME_DOC}.body && "
                                            f"{FRAME_DOC}.body.dataset.chartsRendered"), 90,
                   "the page's charts in the UI's frame", interval=0.5)
        nav = browser.evaluate("[...document.querySelectorAll('nav a, a')].map(a => a.getAttribute('href'))")
        assert any(href and href.rstrip("/").endswith("plugin/atlas") for href in nav), \
            "Atlas is in the UI's navigation"
        charts = {c["id"]: c for c in browser.evaluate(CHARTS)}
        assert set(charts) == {"chart-layers", "chart-quarantine", "chart-scores", "chart-trend"}
        for chart in charts.values():
            assert chart["traces"] > 0 and chart["values"] > 0 and chart["marks"] > 0, chart["id"]
        assert charts["chart-trend"]["traces"] >= 2 and charts["chart-layers"]["values"] == 7
        assert browser.evaluate(f"{FRAME_DOC}.body.dataset.logicalDate") == DATES[-1]
        text = browser.evaluate(f"{FRAME_DOC}.body.innerText + document.body.innerText")
        markup = browser.evaluate(f"{FRAME_DOC}.documentElement.outerHTML + document.documentElement.outerHTML")
        assert "reconciled" in text and "python -m atlas.reprocess customers" in text
        in_text, in_markup = _leaks(text, raw_values), _leaks(markup, raw_values)
        assert in_text == {} and in_markup == {}
        time.sleep(0.5)  # let the layout settle before the picture
        png = browser.screenshot(shot, scale=0.7)

        run_id = runs[DATES[-1]]["dag_run_id"]
        browser.evaluate(f"{FRAME_DOC}.querySelector('a.run-link').click()")
        wait_until(lambda: browser.evaluate("location.pathname") == f"/dags/{DAG_ID}/runs/{quote(run_id, safe='')}"
                   or browser.evaluate("decodeURIComponent(location.pathname)") == f"/dags/{DAG_ID}/runs/{run_id}",
                   30, "the UI to move to the run's page")
    assert png.startswith(b"\x89PNG") and len(png) > 50_000
    if target := os.environ.get(SCREENSHOT_ENV):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
