"""purge_table on the real warehouse and a local lake: every layer of a probe table, by date.

The probe table has slices 400, 100 and 10 days before the run date ``DS`` in bronze, quarantine
and silver, matching lake folders and AI-ready versions, and gold "models" built 800 days ago,
10 days ago and without a date. Periods are the plan's defaults; a second purge finds nothing.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest

from atlas.config import TableSpec
from atlas.retention import cutoff_date, purge_table
from atlas.warehouse.tables import ensure_tables

DS = "2026-11-20"
OLD, MID, NEW = (str(date.fromisoformat(DS) - timedelta(days=d)) for d in (400, 100, 10))
STALE_BUILD = str(date.fromisoformat(DS) - timedelta(days=800))  # past gold's 730 days


def _spec(table: str, **retention: int | None) -> TableSpec:
    return TableSpec.model_validate({
        "table": table,
        "source": {"path": f"{table}/{{{{ ds }}}}/*.csv"},
        "schema": {"primary_key": ["id"], "columns": [{"name": "id"}, {"name": "name"}]},
        "gold": {"models": [f"{table}_stale", f"{table}_fresh", f"{table}_undated", f"{table}_missing"]},
        "ai_ready": {"name": f"{table}_features", "source": f"gold.{table}_fresh", "key": "id"},
        "retention": retention,
    })


def _lake_path(root: Path):
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(f"file://{root}")


@pytest.fixture
def probe(wh_conn, tmp_path):
    """A probe table with three slices everywhere; dropped afterwards."""
    table = f"rp_{uuid.uuid4().hex[:8]}"
    spec = _spec(table)
    lake = tmp_path / "lake"
    with wh_conn.cursor() as cur:
        ensure_tables(cur, spec)
        for n, day in enumerate((OLD, MID, NEW), start=1):
            for i in range(n * 10):  # 10, 20, 30 rows: every slice has its own count
                cur.execute(f"INSERT INTO bronze.{table} (id, name, _atlas_run_id, _atlas_logical_date, "
                            "_atlas_source_file, _atlas_source_checksum, _atlas_row_number) "
                            "VALUES (%s, 'x', 'r', %s, 'f', 'c', %s)", (f"{day}-{i}", day, i))
            cur.execute(f"INSERT INTO quarantine.{table} (id, _atlas_stage, _atlas_rule, _atlas_reason, "
                        "_atlas_run_id, _atlas_logical_date, _atlas_source_file, _atlas_row_number) "
                        "VALUES (%s, 'silver', 'r', 'why', 'r', %s, 'f', 1)", (day, day))
            cur.execute(f"INSERT INTO silver.{table} (id, name, _atlas_run_id, _atlas_logical_date, "
                        "_atlas_source_file, _atlas_row_number) VALUES (%s, 'x', 'r', %s, 'f', 1)", (day, day))
            archive = lake / "bronze" / table / f"ingest_date={day}"
            archive.mkdir(parents=True)
            (archive / "abc__extract.csv").write_text("id,name\n1,x\n")
            version = lake / "ai_ready" / f"{table}_features" / f"version={day}"
            version.mkdir(parents=True)
            for split in ("train", "validation", "test"):
                (version / f"{split}.parquet").write_bytes(b"PAR1")
            (version / "manifest.json").write_text(json.dumps({"version": day}))
            cur.execute("INSERT INTO atlas_meta.ai_ready_versions (dataset, version, table_name, manifest_path, "
                        "content_hash, row_count, run_id, logical_date) VALUES (%s, %s, %s, 'm', 'h', %s, 'r', %s)",
                        (f"{table}_features", day, f"ai_ready.{table}_features", n * 5, day))
        cur.execute(f"CREATE TABLE gold.{table}_stale AS SELECT 1 AS id, %s::date AS as_of_date", (STALE_BUILD,))
        cur.execute(f"CREATE TABLE gold.{table}_fresh AS SELECT 1 AS id, %s::date AS as_of_date", (NEW,))
        cur.execute(f"CREATE TABLE gold.{table}_undated AS SELECT 1 AS id")
        cur.execute(f"CREATE TABLE ai_ready.{table}_features AS SELECT 'k' AS row_key")
    wh_conn.commit()
    yield spec, lake
    wh_conn.rollback()
    with wh_conn.cursor() as cur:
        for qualified in (f"bronze.{table}", f"quarantine.{table}", f"silver.{table}", f"gold.{table}_stale",
                          f"gold.{table}_fresh", f"gold.{table}_undated", f"ai_ready.{table}_features"):
            cur.execute(f"DROP TABLE IF EXISTS {qualified}")
        cur.execute("DELETE FROM atlas_meta.ai_ready_versions WHERE dataset = %s", (f"{table}_features",))
        cur.execute("DELETE FROM atlas_meta.retention_purges WHERE table_name = %s", (table,))
    wh_conn.commit()


def _dates(conn, qualified):
    with conn.cursor() as cur:
        cur.execute(f"SELECT _atlas_logical_date::text, count(*) FROM {qualified} GROUP BY 1 ORDER BY 1")
        rows = dict(cur.fetchall())
    conn.rollback()
    return rows


def _exists(conn, qualified):
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (qualified,))
        found = cur.fetchone()[0]
    conn.rollback()
    return found


def test_cutoff_counts_back_from_the_run_date():
    assert cutoff_date("2026-11-20", 90) == date(2026, 8, 22)


def test_every_layer_loses_exactly_its_expired_slices(probe, wh_conn):
    spec, lake = probe
    table = spec.table
    purges = {p.layer: p for p in purge_table(wh_conn, spec, DS, "run-1", _lake_path(lake))}

    assert _dates(wh_conn, f"bronze.{table}") == {NEW: 30}
    assert _dates(wh_conn, f"quarantine.{table}") == {NEW: 1}
    assert _dates(wh_conn, f"silver.{table}") == {MID: 1, NEW: 1}
    assert sorted(p.name for p in (lake / "bronze" / table).iterdir()) == [f"ingest_date={NEW}"]
    versions = lake / "ai_ready" / f"{table}_features"
    assert sorted(p.name for p in versions.iterdir()) == [f"version={MID}", f"version={NEW}"]
    assert not _exists(wh_conn, f"gold.{table}_stale")
    assert _exists(wh_conn, f"gold.{table}_fresh") and _exists(wh_conn, f"gold.{table}_undated")
    assert _exists(wh_conn, f"ai_ready.{table}_features"), "the last published version (NEW) is kept"

    assert (purges["bronze"].dates, purges["bronze"].rows) == ((OLD, MID), 30)
    assert (purges["archive"].dates, purges["archive"].files) == ((OLD, MID), 2)
    assert (purges["silver"].dates, purges["silver"].rows) == ((OLD,), 1)
    assert (purges["gold"].dates, purges["gold"].rows) == ((STALE_BUILD,), 1)
    assert purges["gold"].objects == (f"gold.{table}_stale",)
    assert (purges["ai_ready"].dates, purges["ai_ready"].rows, purges["ai_ready"].files) == ((OLD,), 5, 4)
    with wh_conn.cursor() as cur:
        cur.execute("SELECT layer, dates, rows, files, retention_days, cutoff_date::text "
                    "FROM atlas_meta.retention_purges WHERE table_name = %s AND run_id = 'run-1'", (table,))
        recorded = {r[0]: r[1:] for r in cur.fetchall()}
    wh_conn.rollback()
    assert recorded == {
        "bronze": (2, 30, 0, 90, str(cutoff_date(DS, 90))), "archive": (2, 0, 2, 90, str(cutoff_date(DS, 90))),
        "quarantine": (2, 2, 0, 90, str(cutoff_date(DS, 90))), "silver": (1, 1, 0, 365, str(cutoff_date(DS, 365))),
        "gold": (1, 1, 0, 730, str(cutoff_date(DS, 730))), "ai_ready": (1, 5, 4, 365, str(cutoff_date(DS, 365))),
    }

    again = purge_table(wh_conn, spec, DS, "run-2", _lake_path(lake))
    assert not any(p.changed for p in again), "a second run finds nothing to delete"
    with wh_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM atlas_meta.retention_purges WHERE table_name = %s AND run_id = 'run-2'",
                    (table,))
        assert cur.fetchone()[0] == 0, "and records nothing"
    wh_conn.rollback()


def test_zero_or_null_keeps_a_layer(probe, wh_conn):
    spec, lake = probe
    keep = spec.model_copy(update={"retention": spec.retention.model_copy(
        update={"bronze": 0, "quarantine": None, "silver": 0, "gold": None, "ai_ready": 0})})
    assert purge_table(wh_conn, keep, DS, "run-keep", _lake_path(lake)) == []
    assert set(_dates(wh_conn, f"bronze.{spec.table}")) == {OLD, MID, NEW}
    assert len(list((lake / "bronze" / spec.table).iterdir())) == 3


def test_an_expired_current_version_drops_the_ai_ready_table(probe, wh_conn):
    spec, lake = probe
    short = spec.model_copy(update={"retention": spec.retention.model_copy(update={"ai_ready": 5})})
    (purge,) = [p for p in purge_table(wh_conn, short, DS, "run-short", _lake_path(lake)) if p.layer == "ai_ready"]
    assert purge.dates == (OLD, MID, NEW)
    assert f"ai_ready.{spec.table}_features" in purge.objects
    assert not _exists(wh_conn, f"ai_ready.{spec.table}_features")
