"""Retention and erasure on a real pipeline: both table DAGs, then the cross-table gold DAG, run
for three logical dates (small sample extracts), then one customer is erased through
``atlas_erasure`` and ``atlas_maintenance`` ages the older slices out. Everything runs in an
isolated home (own warehouse, landing, lake).

Dates, counted back from the maintenance run's date ``D0``: ``OLD`` (400 days: past every period
but gold's), ``MID`` (100 days: past bronze and quarantine), ``NEW`` (10 days: kept everywhere).
The later extracts are the ``OLD`` extract less its last customers and orders (ids stay with the
same customer, as in a real source), so the customers only in ``OLD`` keep it as their last load
in silver. ``orders`` keeps silver forever (``retention.silver: 0``).

Assertions never print raw values: they compare booleans, places and counts.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from atlas import settings
from tests.dag_probe import cross_table_dags, probe_dag, register, run
from tests.helpers.atlas_home import AtlasHome, isolated_atlas_home

pytestmark = pytest.mark.slow

D0 = "2026-11-20"
OLD, MID, NEW = "2025-10-16", "2026-08-12", "2026-11-10"
SIZES = {OLD: (40, 80), MID: (35, 70), NEW: (30, 60)}  # customers, orders in each extract
SEED = 7
TABLES = ("customers", "orders")
PII_FIELDS = ("customer_name", "email_address", "phone_number", "cpr_number", "address")


# ---------------------------------------------------------------------------------------- setup


def _tables_dir(tmp: Path) -> Path:
    """The real table configs; start dates before OLD; orders keeps silver forever."""
    target = tmp / "tables"
    shutil.copytree(settings.tables_dir(), target)
    defaults = target / "defaults.yml"
    defaults.write_text(defaults.read_text().replace('start_date: "2026-01-01"', 'start_date: "2025-01-01"'))
    orders = target / "orders.yml"
    orders.write_text(orders.read_text() + "retention:\n  silver: 0\n")
    return target


@pytest.fixture(scope="module")
def home(airflow_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AtlasHome]:
    from airflow import settings as airflow_settings

    tmp = tmp_path_factory.mktemp("retention")
    patch = pytest.MonkeyPatch()
    plugins = tmp / "airflow-plugins"
    plugins.mkdir()
    patch.setattr(airflow_settings, "PLUGINS_FOLDER", str(plugins))
    patch.setenv("ATLAS_TABLES_DIR", str(_tables_dir(tmp)))
    try:
        with isolated_atlas_home(settings.atlas_home() / "retention") as atlas_home:
            patch.setenv("ATLAS_HOME", str(atlas_home.path))
            yield atlas_home
    finally:
        patch.undo()


@pytest.fixture(scope="module")
def specs(home: AtlasHome) -> dict[str, Any]:
    from atlas.config import load_valid_specs

    return load_valid_specs(settings.tables_dir())


@pytest.fixture(scope="module")
def tmp(home: AtlasHome) -> Path:
    return home.path / "test-dags"


@pytest.fixture(scope="module")
def pipeline(home: AtlasHome, specs: dict[str, Any], tmp: Path) -> dict[str, str]:
    """Both table DAGs, then the cross-table gold DAG (customer_360), for OLD, MID and NEW; every run
    must succeed."""
    from atlas import sample_data

    tmp.mkdir(exist_ok=True)
    dags = {table: probe_dag(specs[table], tmp, tasks=None) for table in TABLES}
    cross_table = cross_table_dags(specs, tmp)
    states = {}
    sample_data.generate(home.landing, OLD, customers=SIZES[OLD][0], orders=SIZES[OLD][1], seed=SEED)
    for ds, sizes in SIZES.items():
        for table, keep in zip(TABLES, sizes, strict=True):
            _keep_first(home.landing / table / OLD / f"{table}.csv", home.landing / table / ds / f"{table}.csv", keep)
    for ds in SIZES:
        for table in TABLES:
            state, tis = run(dags[table], ds)
            states[f"{table}@{ds}"] = state
            assert state == "success", {t: ti.state for t, ti in tis.items()}
        for dag in cross_table:  # both tables are in for the date
            state, tis = run(dag, ds)
            states[f"{dag.dag_id}@{ds}"] = state
            assert state == "success", {t: ti.state for t, ti in tis.items()}
    return states


def _keep_first(source: Path, target: Path, ids: int) -> None:
    """Copy the rows whose id (first column, e.g. C000012) is at most ``ids``."""
    with source.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *(r for r in rows if int(r[0][1:]) <= ids)])


@pytest.fixture(scope="module")
def conn(home: AtlasHome) -> Iterator[Any]:
    from atlas.warehouse import connect

    connection = connect(home.dsn)
    connection.autocommit = True
    yield connection
    connection.close()


def _rows(conn: Any, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _count(conn: Any, sql: str, *params: Any) -> int:
    return int(_rows(conn, sql, *params)[0][0])


# ---------------------------------------------------------------------------------------- the subject


def _landed(home: AtlasHome, table: str, ds: str) -> list[dict[str, str]]:
    with (home.landing / table / ds / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _choose_subject(home: AtlasHome) -> dict[str, Any]:
    """A customer in every extract with orders, a CPR and an email, none of whose PII values occurs
    in any other customer's or order's row (so "nowhere" is checkable by plain search)."""
    customers = [row for ds in SIZES for row in _landed(home, "customers", ds)]
    orders = [row for ds in SIZES for row in _landed(home, "orders", ds)]
    in_every = set.intersection(*({r["customer_id"] for r in _landed(home, "customers", ds)} for ds in SIZES))
    for candidate in sorted(in_every):
        mine = [r for r in customers if r["customer_id"] == candidate]
        values = {r[f] for r in mine for f in PII_FIELDS}  # birth date and CPR follow each extract's date
        if any(len(v) < 6 for v in values):
            continue
        their_orders = [r for r in orders if r["customer_id"] == candidate]
        others = [r for r in customers if r["customer_id"] != candidate] + \
                 [r for r in orders if r["customer_id"] != candidate]
        other_text = "\n".join("\t".join(r.values()) for r in others)
        if their_orders and not any(v in other_text for v in values):
            return {"key": candidate, "values": sorted(values),
                    "orders": sorted({r["order_id"] for r in their_orders})}
    raise AssertionError("no customer in the sample extracts qualifies as the erasure subject")


def _holds(text: str, values: list[str]) -> bool:
    """Whether ``text`` contains one of ``values`` (a bool, so a failing assert shows no value)."""
    return any(v in text for v in values)


def _text_columns(conn: Any, schemas: tuple[str, ...] | None = None) -> list[tuple[str, str, str]]:
    """(schema, table, column) of every column of every base table, optionally in ``schemas``."""
    rows = _rows(conn, "SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c "
                       "JOIN information_schema.tables t USING (table_schema, table_name) "
                       "WHERE t.table_type = 'BASE TABLE' "
                       "AND c.table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3")
    return [r for r in rows if schemas is None or r[0] in schemas]


def _places_holding(conn: Any, values: list[str], schemas: tuple[str, ...] | None = None) -> dict[str, int]:
    """Columns (of any type, as text) containing one of ``values`` anywhere: {schema.table.column: rows}."""
    found = {}
    for schema, table, column in _text_columns(conn, schemas):
        condition = " OR ".join(f'strpos("{column}"::text, %s) > 0' for _ in values)
        rows = _count(conn, f'SELECT count(*) FROM {schema}."{table}" WHERE {condition}', *values)
        if rows:
            found[f"{schema}.{table}.{column}"] = rows
    return found


def _files_holding(roots: list[Path], values: list[str]) -> dict[str, int]:
    """Files under ``roots`` whose bytes (or Parquet string columns) contain a value: {path: hits}."""
    import pyarrow.parquet as pq

    found = {}
    needles = [v.encode("utf-8") for v in values]
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            data = path.read_bytes()
            hits = sum(1 for n in needles if n in data)
            if path.suffix == ".parquet" and data[:4] == b"PAR1":
                table = pq.read_table(path)
                text = "\n".join(str(v) for name in table.column_names
                                 if str(table.schema.field(name).type) in ("string", "large_string")
                                 for v in table.column(name).to_pylist())
                hits += sum(1 for v in values if v in text)
            if hits:
                found[str(path.relative_to(root.parent))] = hits
    return found


def _parquet_rows(lake: Path) -> dict[str, set[tuple[Any, ...]]]:
    import pyarrow.parquet as pq

    out = {}
    for path in sorted((lake / "ai_ready").rglob("*.parquet")):
        table = pq.read_table(path)
        out[str(path.relative_to(lake))] = set(zip(*(table.column(n).to_pylist() for n in table.column_names),
                                                   strict=True))
    return out


def _snapshot(conn: Any, subject: dict[str, Any], pseudonym: str, lake: Path) -> dict[str, Any]:
    """Every other customer's and order's rows, per layer (the subject's excluded)."""
    key = subject["key"]
    snap: dict[str, Any] = {}
    for layer in ("bronze", "quarantine"):
        snap[f"{layer}.customers"] = sorted(map(str, _rows(
            conn, f"SELECT * FROM {layer}.customers WHERE customer_id IS DISTINCT FROM %s "
                  "AND customer_id IS DISTINCT FROM %s", key, pseudonym)))
        snap[f"{layer}.orders"] = sorted(map(str, _rows(
            conn, f"SELECT * FROM {layer}.orders WHERE customer_id IS DISTINCT FROM %s "
                  "AND customer_id IS DISTINCT FROM %s", key, pseudonym)))
    snap["silver.customers"] = sorted(map(str, _rows(conn, "SELECT * FROM silver.customers WHERE customer_id <> %s",
                                                     pseudonym)))
    snap["silver.orders"] = sorted(map(str, _rows(conn, "SELECT * FROM silver.orders WHERE customer_id <> %s",
                                                  pseudonym)))
    snap["gold.order_facts"] = sorted(map(str, _rows(
        conn, "SELECT order_id, customer_id, order_amount, status, order_hour, customer_order_number, as_of_date "
              "FROM gold.order_facts WHERE customer_id IS DISTINCT FROM %s", pseudonym)))
    snap["gold.customer_360"] = sorted(map(str, _rows(
        conn, "SELECT customer_id, total_orders, completed_orders, total_revenue, last_order_at, tenure_days, "
              "customer_lifetime_value, as_of_date FROM gold.customer_360 WHERE customer_id <> %s", pseudonym)))
    snap["parquet"] = _parquet_rows(lake)
    return snap


# ---------------------------------------------------------------------------------------- erasure


@pytest.fixture(scope="module")
def erasure(pipeline: dict[str, str], home: AtlasHome, specs: dict[str, Any], conn: Any,
            tmp: Path) -> dict[str, Any]:
    """Erase one customer through atlas_erasure after the pipeline; keep before/after evidence."""
    from atlas.maintenance.dags import erasure_dag
    from atlas.pii import load_keys
    from atlas.pii.pseudonym import pseudonymize

    subject = _choose_subject(home)
    hmac_key = load_keys().hmac_key
    pseudonym = pseudonymize(subject["key"], hmac_key)
    lake = Path(settings.lake_url().removeprefix("file://"))
    row_keys = [pseudonymize(pseudonym, hmac_key)] + [pseudonymize(o, hmac_key) for o in subject["orders"]]
    before = {
        "snapshot": _snapshot(conn, subject, pseudonym, lake),
        "places": _places_holding(conn, subject["values"]),
        "files": _files_holding([home.landing, lake], subject["values"]),
        "subject_completed": _count(conn, "SELECT coalesce(sum(order_amount) FILTER (WHERE status = 'completed'), 0)"
                                          " * 100 FROM gold.order_facts WHERE customer_id = %s", pseudonym),
        "revenue": _count(conn, "SELECT sum(revenue) * 100 FROM gold.daily_revenue"),
        "layers": {f"{layer}.{table}": _count(conn, f"SELECT count(*) FROM {layer}.{table} WHERE customer_id = %s",
                                              subject["key"] if layer == "bronze" else pseudonym)
                   for layer in ("bronze", "quarantine", "silver") for table in TABLES},
        "row_keys_in_parquet": sum(1 for rows in _parquet_rows(lake).values() for r in rows if r[0] in row_keys),
    }
    dag = register(erasure_dag(specs), tmp)
    run_ = dag.test(logical_date=datetime.fromisoformat(D0).replace(tzinfo=UTC),
                    run_conf={"table": "customers", "key_column": "customer_id", "key_value": subject["key"]})
    ti = next(t for t in run_.get_task_instances() if t.task_id == "erase_subject")
    return {"subject": subject, "pseudonym": pseudonym, "row_keys": row_keys, "before": before, "run": run_,
            "ti": ti, "lake": lake}


def test_the_subject_was_everywhere_before(erasure: dict[str, Any]) -> None:
    before = erasure["before"]
    assert {p.split(".")[0] for p in before["places"]} >= {"bronze"}, "raw values in bronze before the erasure"
    assert any(p.startswith("landing/") for p in before["files"]), "raw values in the landed files"
    assert any(p.startswith("lake/bronze/") for p in before["files"]), "raw values in the lake's archive"
    assert before["row_keys_in_parquet"] >= 2 * len(SIZES), "the subject and their orders in every AI-ready version"
    assert before["subject_completed"] > 0


def test_erasure_run_succeeds_with_counts(erasure: dict[str, Any]) -> None:
    assert str(erasure["run"].state) == "success", erasure["ti"].state
    result = erasure["ti"].xcom_pull(task_ids="erase_subject")
    assert result["status"] == "completed" and result["found"] is True
    assert result["tables"] == ["customers", "orders"]
    counts = result["counts"]
    for name, rows in erasure["before"]["layers"].items():
        layer, table = name.split(".")
        assert counts["tables"][table][f"{layer}_rows"] == rows, name
    assert counts["tables"]["customers"]["bronze_rows"] >= len(SIZES)
    assert counts["tables"]["customers"]["silver_rows"] == 1
    assert counts["tables"]["customers"]["archive_files"] == len(SIZES)
    assert counts["tables"]["customers"]["landing_files"] == len(SIZES)
    assert counts["ai_ready"]["customer_features"]["versions"] == len(SIZES)
    assert set(counts["gold"]) >= {"customer_360", "order_facts", "daily_revenue"}
    assert result["subject_pseudonym"] == erasure["pseudonym"]
    assert not _holds(json.dumps(result), [erasure["subject"]["key"]]), "the raw key is in the result"


def test_no_raw_value_in_any_table_of_any_schema(erasure: dict[str, Any], conn: Any) -> None:
    places = _places_holding(conn, erasure["subject"]["values"])
    assert places == {}, f"raw values of the erased customer remain in {sorted(places)}"
    key_places = _places_holding(conn, [erasure["subject"]["key"]])
    assert key_places == {}, f"the raw key remains in {sorted(key_places)}"


def test_no_raw_value_in_any_file_of_the_lake_or_landing(erasure: dict[str, Any], home: AtlasHome) -> None:
    files = _files_holding([home.landing, erasure["lake"]], erasure["subject"]["values"])
    assert files == {}, f"raw values of the erased customer remain in {sorted(files)}"


def test_pseudonym_in_no_silver_gold_or_ai_ready_row(erasure: dict[str, Any], conn: Any) -> None:
    ids = [erasure["pseudonym"], *erasure["row_keys"]]
    places = _places_holding(conn, ids, ("silver", "gold", "ai_ready", "quarantine"))
    assert places == {}, f"the subject's pseudonym or row keys remain in {sorted(places)}"
    in_parquet = sum(1 for rows in _parquet_rows(erasure["lake"]).values() for r in rows if r[0] in ids)
    assert in_parquet == 0, f"{in_parquet} AI-ready Parquet rows of the subject remain"


def test_every_other_row_unchanged(erasure: dict[str, Any], conn: Any) -> None:
    before = erasure["before"]["snapshot"]
    after = _snapshot(conn, erasure["subject"], erasure["pseudonym"], erasure["lake"])
    changed = sorted(k for k in before if k != "parquet" and before[k] != after[k])
    assert changed == [], f"other customers' rows changed in {changed}"
    ids = set(erasure["row_keys"])
    for path, rows in before["parquet"].items():
        same = after["parquet"][path] == {r for r in rows if r[0] not in ids}
        assert same, f"{path}: other rows changed"
    revenue = _count(conn, "SELECT sum(revenue) * 100 FROM gold.daily_revenue")
    assert erasure["before"]["revenue"] - revenue == erasure["before"]["subject_completed"], \
        "daily revenue lost exactly the erased customer's completed orders"


def test_manifests_record_the_erasure(erasure: dict[str, Any], conn: Any) -> None:
    from atlas.ai_ready import read_manifest

    for folder in sorted((erasure["lake"] / "ai_ready" / "customer_features").glob("version=*")):
        manifest = read_manifest(str(folder))
        assert [r for r, _ in manifest.erasures] == [erasure["run"].run_id]
        stored = _rows(conn, "SELECT row_count, content_hash FROM atlas_meta.ai_ready_versions "
                             "WHERE dataset = 'customer_features' AND version = %s", manifest.version)
        assert stored == [(manifest.total_rows, manifest.content_hash)]
        assert sum(f.rows for f in manifest.files) == manifest.total_rows


def test_audit_record_without_the_raw_key(erasure: dict[str, Any], conn: Any) -> None:
    records = _rows(conn, "SELECT status, found, tables, subject_pseudonym, requested_by, row_to_json(r)::text "
                          "FROM atlas_meta.erasure_requests r WHERE request_id = %s", erasure["run"].run_id)
    assert len(records) == 1
    status, found, tables, pseudonym, requested_by, text = records[0]
    assert (status, found, tables, requested_by) == ("completed", True, ["customers", "orders"],
                                                     "airflow:atlas_erasure")
    assert pseudonym == erasure["pseudonym"]
    assert not _holds(text, [erasure["subject"]["key"]]), "the audit record holds the raw key"
    assert not _holds(text, erasure["subject"]["values"]), "the audit record holds raw values"


def test_no_lineage_event_for_the_erasure_run(erasure: dict[str, Any]) -> None:
    lineage = Path(json.loads(__import__("os").environ["AIRFLOW__OPENLINEAGE__TRANSPORT"])["log_file_path"])
    text = lineage.read_text() if lineage.exists() else ""
    assert "atlas_erasure" not in text, "erasure runs emit no lineage (their conf holds the raw key)"
    assert not _holds(text, [erasure["subject"]["key"]]), "the raw key is in the lineage file"


def test_check_finds_nothing_left(erasure: dict[str, Any], capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from atlas import erase

    monkeypatch.setattr("sys.stdin", io.StringIO(erasure["subject"]["key"] + "\n"))
    code = erase.main(["customers", "customer_id", "--key-stdin", "--check", "--json"])
    out = capsys.readouterr().out
    assert code == 0 and json.loads(out)["remaining"] == {}
    assert not _holds(out, [erasure["subject"]["key"]]), "the raw key is in the output"


def test_erasing_an_unknown_key_succeeds_with_zero_counts(erasure: dict[str, Any], conn: Any,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from atlas import erase

    gold_runs = _rows(conn, "SELECT DISTINCT _atlas_run_id FROM gold.customer_360")
    monkeypatch.setattr("sys.stdin", io.StringIO("C000000\n"))
    code = erase.main(["customers", "customer_id", "--key-stdin", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["status"] == "completed" and result["found"] is False
    assert "nothing was changed (0 rows, 0 files)" in result["message"]
    totals = [v for section in result["counts"].values() for entry in section.values() for v in entry.values()]
    assert totals and not any(totals), "every count is zero"
    assert result["tables"] == []
    assert _rows(conn, "SELECT DISTINCT _atlas_run_id FROM gold.customer_360") == gold_runs, "gold not rebuilt"
    stored = _rows(conn, "SELECT found, status FROM atlas_meta.erasure_requests WHERE request_id = %s",
                   result["request_id"])
    assert stored == [(False, "completed")]


# ---------------------------------------------------------------------------------------- retention


def _state(conn: Any, lake: Path) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for layer in ("bronze", "quarantine", "silver"):
        for table in TABLES:
            state[f"{layer}.{table}"] = dict(_rows(
                conn, f"SELECT _atlas_logical_date::text, count(*) FROM {layer}.{table} GROUP BY 1"))
    for model in ("customer_360", "daily_revenue", "order_facts"):
        state[f"gold.{model}"] = _count(conn, f"SELECT count(*) FROM gold.{model}")
    state["versions"] = sorted(_rows(conn, "SELECT dataset, version FROM atlas_meta.ai_ready_versions"))
    state["purges"] = _count(conn, "SELECT count(*) FROM atlas_meta.retention_purges")
    state["files"] = sorted(str(p.relative_to(lake)) for p in lake.rglob("*") if p.is_file())
    return state


@pytest.fixture(scope="module")
def maintenance(erasure: dict[str, Any], specs: dict[str, Any], conn: Any, tmp: Path) -> dict[str, Any]:
    """atlas_maintenance for D0, twice."""
    from atlas.maintenance.dags import maintenance_dag

    lake = erasure["lake"]
    before = _state(conn, lake)
    dag = register(maintenance_dag(specs), tmp)
    when = datetime.fromisoformat(D0).replace(tzinfo=UTC)
    first = dag.test(logical_date=when)
    after = _state(conn, lake)
    second = dag.test(logical_date=when)
    again = _state(conn, lake)
    return {"before": before, "after": after, "again": again, "first": first, "second": second, "lake": lake}


def test_maintenance_runs_succeed(maintenance: dict[str, Any]) -> None:
    assert str(maintenance["first"].state) == "success"
    assert str(maintenance["second"].state) == "success"


def test_expired_slices_gone_newer_untouched(maintenance: dict[str, Any]) -> None:
    before, after = maintenance["before"], maintenance["after"]
    for table in TABLES:
        assert set(before[f"bronze.{table}"]) == {OLD, MID, NEW}
        for layer in ("bronze", "quarantine"):
            assert set(after[f"{layer}.{table}"]) <= {NEW}, f"{layer}.{table}"
            assert after[f"{layer}.{table}"].get(NEW) == before[f"{layer}.{table}"].get(NEW), f"{layer}.{table}"
    assert before["silver.customers"].get(OLD) and OLD not in after["silver.customers"], "silver past 365 days"
    assert after["silver.customers"][NEW] == before["silver.customers"][NEW]
    assert after["silver.orders"] == before["silver.orders"], "orders keeps silver (retention.silver: 0)"
    for model in ("customer_360", "daily_revenue", "order_facts"):
        assert after[f"gold.{model}"] == before[f"gold.{model}"], "gold builds as of NEW are within 730 days"


def test_expired_files_and_versions_gone(maintenance: dict[str, Any]) -> None:
    before, after = maintenance["before"], maintenance["after"]
    for table in TABLES:
        for ds in (OLD, MID):
            assert any(f.startswith(f"bronze/{table}/ingest_date={ds}/") for f in before["files"])
            assert not any(f.startswith(f"bronze/{table}/ingest_date={ds}/") for f in after["files"])
        assert any(f.startswith(f"bronze/{table}/ingest_date={NEW}/") for f in after["files"])
    for dataset in ("customer_features", "order_features"):
        assert (dataset, OLD) in before["versions"] and (dataset, OLD) not in after["versions"]
        assert {(dataset, MID), (dataset, NEW)} <= set(after["versions"])
        assert not any(f.startswith(f"ai_ready/{dataset}/version={OLD}/") for f in after["files"])
        for ds in (MID, NEW):
            kept = [f for f in after["files"] if f.startswith(f"ai_ready/{dataset}/version={ds}/")]
            assert kept == [f for f in before["files"] if f.startswith(f"ai_ready/{dataset}/version={ds}/")]
            assert len(kept) == 4


def test_purges_recorded_with_counts(maintenance: dict[str, Any], conn: Any) -> None:
    run_id = maintenance["first"].run_id
    recorded = {(t, layer): (dates, rows, files) for t, layer, dates, rows, files in _rows(
        conn, "SELECT table_name, layer, dates, rows, files FROM atlas_meta.retention_purges WHERE run_id = %s",
        run_id)}
    before = maintenance["before"]
    for table in TABLES:
        assert recorded[(table, "bronze")] == (2, before[f"bronze.{table}"][OLD] + before[f"bronze.{table}"][MID], 0)
        assert recorded[(table, "archive")][0] == 2 and recorded[(table, "archive")][2] >= 2
    assert recorded[("customers", "silver")] == (1, before["silver.customers"][OLD], 0)
    assert ("orders", "silver") not in recorded
    assert recorded[("customers", "ai_ready")][0] == 1 and recorded[("customers", "ai_ready")][2] == 4
    assert not any(layer == "gold" for _, layer in recorded)


def test_second_run_changes_nothing(maintenance: dict[str, Any], conn: Any) -> None:
    assert maintenance["again"] == maintenance["after"]
    assert _count(conn, "SELECT count(*) FROM atlas_meta.retention_purges WHERE run_id = %s",
                  maintenance["second"].run_id) == 0


def test_purges_reported_to_openlineage(maintenance: dict[str, Any], tmp: Path) -> None:
    import os

    from tests.helpers.openlineage_receiver import SCHEMA_DIR, EventValidator

    schemas = tmp / "ol-schemas"
    shutil.copytree(SCHEMA_DIR, schemas, dirs_exist_ok=True)
    shutil.copy(settings.PROJECT_ROOT / "docs" / "lineage" / "AtlasPurgeOutputDatasetFacet.json", schemas / "facets")
    validator = EventValidator(schemas)
    path = Path(json.loads(os.environ["AIRFLOW__OPENLINEAGE__TRANSPORT"])["log_file_path"])
    run_id = maintenance["first"].run_id
    events = [json.loads(line) for line in path.read_text().splitlines()
              if '"atlas_maintenance.purge_' in line and run_id in line]
    complete = [e for e in events if e["eventType"] == "COMPLETE"]
    assert len(complete) == len(TABLES)
    assert [e for e in complete if validator.errors(e)] == []
    facets = {(o["name"].rsplit(".", 1)[-1] if "/" not in o["name"] else o["name"].split("/")[-1],
               o["outputFacets"]["atlas_purge"]["layer"]): o["outputFacets"]["atlas_purge"]
              for e in complete for o in e["outputs"]}
    assert facets[("customers", "bronze")]["rowsDeleted"] == sum(
        maintenance["before"]["bronze.customers"][d] for d in (OLD, MID))
    assert facets[(f"version={OLD}", "ai_ready")]["filesDeleted"] == 4


