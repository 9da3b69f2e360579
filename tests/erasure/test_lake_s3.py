"""Retention and erasure on an s3:// lake and landing area (moto's S3 server, as in test_s3_lake)."""

from __future__ import annotations

import uuid

import pytest

from atlas.config import TableSpec
from tests.test_s3_lake import aws_default, s3_endpoint  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow
pytest.importorskip("s3fs")
pytest.importorskip("moto")

DS = "2026-11-20"
SUBJECT = "C000002"
CSV = b"customer_id,customer_name\nC000001,Anna Berg\nC000002,Subject One\nC000003,Carl Dahl\n"


def _root(url: str):
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(url, conn_id="aws_default")


def _keys(client, bucket: str, prefix: str) -> list[str]:
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"].removeprefix(prefix) for o in listed.get("Contents", []))


def _spec(table: str) -> TableSpec:
    return TableSpec.model_validate({
        "table": table, "source": {"path": f"{table}/{{{{ ds }}}}/*.csv"},
        "schema": {"primary_key": ["customer_id"], "columns": [{"name": "customer_id"}, {"name": "customer_name"}]},
        "ai_ready": {"name": f"{table}_features", "source": f"gold.{table}", "key": "customer_id"},
    })


def test_retention_deletes_expired_lake_folders_on_s3(aws_default, wh_conn):  # noqa: F811
    from atlas.retention import purge_table

    table = f"s3r_{uuid.uuid4().hex[:8]}"
    prefix = f"lake-{table}/"
    for day in ("2025-10-16", "2026-08-12", "2026-11-10"):
        aws_default.put_object(Bucket="atlas-lake", Key=f"{prefix}bronze/{table}/ingest_date={day}/abc__x.csv",
                               Body=CSV)
        for name in ("train.parquet", "validation.parquet", "test.parquet", "manifest.json"):
            aws_default.put_object(Bucket="atlas-lake", Key=f"{prefix}ai_ready/{table}_features/version={day}/{name}",
                                   Body=b"x")
    try:
        purges = {p.layer: p for p in purge_table(wh_conn, _spec(table), DS, "s3-run", _root(f"s3://atlas-lake/{prefix}"))}
        assert _keys(aws_default, "atlas-lake", prefix) == [
            f"ai_ready/{table}_features/version=2026-08-12/{n}" for n in
            ("manifest.json", "test.parquet", "train.parquet", "validation.parquet")] + [
            f"ai_ready/{table}_features/version=2026-11-10/{n}" for n in
            ("manifest.json", "test.parquet", "train.parquet", "validation.parquet")] + [
            f"bronze/{table}/ingest_date=2026-11-10/abc__x.csv"]
        assert (purges["archive"].dates, purges["archive"].files) == (("2025-10-16", "2026-08-12"), 2)
        assert (purges["ai_ready"].dates, purges["ai_ready"].files) == (("2025-10-16",), 4)
        assert purges["archive"].objects[0].startswith("s3://atlas-lake/")
        again = purge_table(wh_conn, _spec(table), DS, "s3-run-2", _root(f"s3://atlas-lake/{prefix}"))
        assert not any(p.changed for p in again)
    finally:
        with wh_conn.cursor() as cur:
            cur.execute("DELETE FROM atlas_meta.retention_purges WHERE table_name = %s", (table,))
        wh_conn.commit()


def test_erasure_rewrites_archive_and_landed_files_on_s3(aws_default, wh_conn):  # noqa: F811
    from atlas.erasure.files import erase_from_files

    table = f"s3e_{uuid.uuid4().hex[:8]}"
    spec = _spec(table)
    archive_key = f"lake/bronze/{table}/ingest_date=2026-11-10/0123456789abcdef__x.csv"
    landed_key = f"{table}/2026-11-10/x.csv"
    aws_default.put_object(Bucket="atlas-lake", Key=archive_key, Body=CSV)
    aws_default.put_object(Bucket="atlas-landing", Key=landed_key, Body=CSV)
    with wh_conn.cursor() as cur:  # as ingest records it: the URL carries the connection id
        cur.execute("INSERT INTO atlas_meta.ingested_files (table_name, source_checksum, source_file, archive_path, "
                    "logical_date, run_id, row_count) VALUES (%s, 'c', %s, 'a', '2026-11-10', 'r', 3)",
                    (table, f"s3://aws_default@atlas-landing/{landed_key}"))
    wh_conn.commit()
    try:
        counts = erase_from_files(wh_conn, spec, "customer_id", SUBJECT, _root("s3://atlas-lake/lake"),
                                  _root("s3://atlas-landing"))
    finally:
        with wh_conn.cursor() as cur:
            cur.execute("DELETE FROM atlas_meta.ingested_files WHERE table_name = %s", (table,))
        wh_conn.commit()
    assert counts == {"archive_files": 1, "landing_files": 1, "file_rows": 2, "leftover_files": 0}
    expected = b"customer_id,customer_name\nC000001,Anna Berg\nC000003,Carl Dahl\n"
    assert aws_default.get_object(Bucket="atlas-lake", Key=archive_key)["Body"].read() == expected
    assert aws_default.get_object(Bucket="atlas-landing", Key=landed_key)["Body"].read() == expected
    assert _keys(aws_default, "atlas-lake", f"lake/bronze/{table}/") == [
        "ingest_date=2026-11-10/0123456789abcdef__x.csv"], "no work file left"


def test_erasure_rewrites_ai_ready_versions_on_s3(aws_default, wh_conn):  # noqa: F811
    from atlas.ai_ready import publish_ai_ready, read_manifest
    from atlas.erasure.ai_ready import erase_from_dataset
    from atlas.pii.pseudonym import pseudonymize

    key = b"k" * 32
    table = f"s3a_{uuid.uuid4().hex[:8]}"
    spec = _spec(table).ai_ready
    with wh_conn.cursor() as cur:
        cur.execute(f"CREATE TABLE gold.{table} AS SELECT 'C' || lpad(i::text, 6, '0') AS customer_id "
                    "FROM generate_series(1, 300) i")
    wh_conn.commit()
    lake = "s3://atlas-lake/ai"
    try:
        for version in ("2026-11-09", "2026-11-10"):
            publish_ai_ready(wh_conn, spec, lake, key, f"r-{version}", version, storage_conn_id="aws_default")
        gone = {pseudonymize(SUBJECT, key), pseudonymize("C000007", key)}
        counts = erase_from_dataset(wh_conn, spec, _root(lake), gone, "erasure-1")
        assert counts == {"versions": 2, "files": 6, "rows": 4, "table_rows": 2, "staging_files": 0}
        for version in ("2026-11-09", "2026-11-10"):
            manifest = read_manifest(_root(f"{lake}/ai_ready/{spec.name}/version={version}"))
            assert manifest.total_rows == 298 and manifest.erasures == (("erasure-1", 2),)
            with wh_conn.cursor() as cur:
                cur.execute("SELECT row_count, content_hash FROM atlas_meta.ai_ready_versions "
                            "WHERE dataset = %s AND version = %s", (spec.name, version))
                assert cur.fetchone() == (298, manifest.content_hash)
            wh_conn.rollback()
        again = erase_from_dataset(wh_conn, spec, _root(lake), gone, "erasure-2")
        assert again == {"versions": 0, "files": 0, "rows": 0, "table_rows": 0, "staging_files": 0}
    finally:
        with wh_conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS gold.{table}")
            cur.execute(f"DROP TABLE IF EXISTS ai_ready.{spec.name}")
            cur.execute("DELETE FROM atlas_meta.ai_ready_versions WHERE dataset = %s", (spec.name,))
        wh_conn.commit()
