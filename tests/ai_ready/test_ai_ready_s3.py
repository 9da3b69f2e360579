"""publish_ai_ready into an s3:// lake (moto's S3 server standing in for MinIO)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from atlas.ai_ready import publish_ai_ready, read_manifest
from atlas.config import AiReadySpec

pytestmark = pytest.mark.slow
pytest.importorskip("s3fs")
pytest.importorskip("moto")


@pytest.fixture(scope="module")
def s3_endpoint():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def bucket(s3_endpoint, monkeypatch, tmp_path):
    import boto3
    from airflow import settings as airflow_settings

    monkeypatch.setattr(airflow_settings, "PLUGINS_FOLDER", str(tmp_path / "airflow-plugins"))
    conn = {"conn_type": "aws", "login": "atlas", "password": "secret",
            "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"}}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(conn))
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="atlas", aws_secret_access_key="secret")
    name = f"lake-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=name)
    return client, name


def test_publish_to_s3_and_rerun(wh_conn, bucket):
    client, name = bucket
    table = f"tai_{uuid.uuid4().hex[:8]}"
    with wh_conn.cursor() as cur:
        cur.execute(f"CREATE TABLE gold.{table} AS SELECT 'C' || i AS id, i % 7 AS amount, "
                    f"(ARRAY['a', 'b', NULL])[1 + i % 3] AS kind FROM generate_series(1, 500) i")
    wh_conn.commit()
    spec = AiReadySpec(name=table, source=f"gold.{table}", key="id", numeric=("amount",), categorical=("kind",))
    try:
        first = publish_ai_ready(wh_conn, spec, f"s3://{name}/lake", b"k" * 32, "r1", "2026-03-31",
                                 storage_conn_id="aws_default")
        prefix = f"lake/ai_ready/{table}/version=2026-03-31/"
        client.put_object(Bucket=name, Key=prefix + "stale.parquet", Body=b"old")
        second = publish_ai_ready(wh_conn, spec, f"s3://{name}/lake", b"k" * 32, "r1", "2026-03-31",
                                  storage_conn_id="aws_default")
        keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=name)["Contents"])
        assert keys == [prefix + f for f in ("manifest.json", "test.parquet", "train.parquet", "validation.parquet")]
        assert second == first and first.total_rows == 500
        assert first.uri == f"s3://{name}/{prefix}manifest.json"
        assert read_manifest(first.uri, conn_id="aws_default") == first
    finally:
        with wh_conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS gold.{table}; DROP TABLE IF EXISTS ai_ready.{table}")
            cur.execute("DELETE FROM atlas_meta.ai_ready_versions WHERE dataset = %s", (table,))
        wh_conn.commit()
