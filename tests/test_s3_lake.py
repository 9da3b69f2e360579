"""The lake and landing area on S3, the way the compose stack wires them (moto's S3 server as MinIO).

AIRFLOW_CONN_AWS_DEFAULT carries the endpoint_url in its extra, exactly like docker-compose.yaml.
The amazon provider's hook reaches the server through it; ObjectStoragePath and the sample-data
generator read and write s3:// URLs through it too, which needs the ``s3fs`` filesystem
(``apache-airflow-providers-amazon[s3fs]``): those tests skip while it is not installed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

pytestmark = pytest.mark.slow

DS = "2026-11-21"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:  # it answers (403 with authentication on)
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"moto server did not answer on {url}")


@contextmanager
def _moto_server(**env: str) -> Iterator[str]:
    """A local S3 server (moto) on a free port; stopped afterwards."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A local S3 server for this module."""
    with _moto_server() as url:
        yield url


@pytest.fixture
def aws_default(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> object:
    """aws_default as the compose stack defines it, plus the two buckets; returns a boto3 client.

    Like the stack, Airflow's plugin loader gets an empty folder of its own: S3 hooks load plugins
    (hook lineage readers), and the loader would exec every module of the atlas package.
    """
    import boto3
    from airflow import settings as airflow_settings

    monkeypatch.setattr(airflow_settings, "PLUGINS_FOLDER", str(tmp_path / "airflow-plugins"))

    conn = {"conn_type": "aws", "login": "atlas-airflow", "password": "test-secret-key",
            "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"}}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(conn))
    monkeypatch.setenv("ATLAS_STORAGE_CONN_ID", "aws_default")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="atlas-airflow", aws_secret_access_key="test-secret-key")
    for bucket in ("atlas-lake", "atlas-landing"):
        client.create_bucket(Bucket=bucket)
    return client


def _require_s3fs() -> None:
    pytest.importorskip("s3fs", reason="s3:// ObjectStoragePath needs apache-airflow-providers-amazon[s3fs]")


def test_aws_default_reaches_the_endpoint_from_its_extra(aws_default):
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    hook = S3Hook(aws_conn_id="aws_default")
    hook.load_string("hook works", key="probe/hook.txt", bucket_name="atlas-lake", replace=True)
    assert hook.read_key("probe/hook.txt", bucket_name="atlas-lake") == "hook works"
    body = aws_default.get_object(Bucket="atlas-lake", Key="probe/hook.txt")["Body"].read()
    assert body == b"hook works"


def test_object_storage_path_reads_and_writes_the_lake(aws_default):
    _require_s3fs()
    from airflow.sdk import ObjectStoragePath

    path = ObjectStoragePath("s3://atlas-lake/x/probe.txt", conn_id="aws_default")
    with path.open("w") as handle:
        handle.write("lake works\n")
    body = aws_default.get_object(Bucket="atlas-lake", Key="x/probe.txt")["Body"].read()
    assert body == b"lake works\n"
    assert ObjectStoragePath("s3://atlas-lake/x/probe.txt", conn_id="aws_default").read_text() == "lake works\n"
    assert [p.name for p in ObjectStoragePath("s3://atlas-lake/x/", conn_id="aws_default").iterdir()] == [
        "probe.txt"
    ]


def test_sample_data_lands_on_s3(aws_default):
    _require_s3fs()
    from atlas.sample_data import generate

    summary = generate("s3://atlas-landing", DS, customers=300, orders=900, seed=5)
    keys = {o["Key"] for o in aws_default.list_objects_v2(Bucket="atlas-landing")["Contents"]}
    assert keys == {f"customers/{DS}/customers.csv", f"orders/{DS}/orders.csv"}
    orders = aws_default.get_object(Bucket="atlas-landing", Key=f"orders/{DS}/orders.csv")["Body"].read()
    assert orders.count(b"\n") == summary.order_rows + 1


def test_landing_on_s3_finds_files_and_fails_clearly_on_storage_errors(aws_default, s3_endpoint, monkeypatch):
    """A glob under an s3:// landing root finds the landed files; a bucket that does not exist or
    missing credentials are permanent errors at once, not "no file yet" until the sensor's timeout."""
    _require_s3fs()
    from atlas import storage
    from atlas.errors import AtlasSourceError, AtlasStorageError

    aws_default.put_object(Bucket="atlas-landing", Key=f"customers/{DS}/customers.csv", Body=b"customer_id\n")
    monkeypatch.setenv("ATLAS_LANDING_URL", "s3://atlas-landing")
    (found,) = storage.resolve_source(f"customers/{DS}/*.csv")
    assert storage.url_of(found) == f"s3://atlas-landing/customers/{DS}/customers.csv"
    (again,) = storage.landed_paths([storage.url_of(found)])  # what the sensor hands to the ingest
    assert again.read_bytes() == b"customer_id\n"
    assert storage.resolve_source(f"customers/{DS}/missing-*.csv") == []  # not landed yet: keep waiting

    with pytest.raises(AtlasSourceError, match=r"param source_file .* outside the landing root"):
        storage.resolve_source("s3://no-such-bucket/customers/x.csv", param="source_file")
    with pytest.raises(AtlasStorageError, match="no-such-bucket") as info:
        storage.resolve_source("s3://no-such-bucket/customers/x.csv", ("s3://no-such-bucket",), "source_file")
    from atlas.retry import classify

    assert classify(info.value) == "permanent"  # fails the task without burning retries

    monkeypatch.setenv("ATLAS_LANDING_URL", "s3://no-such-bucket/landing")
    with pytest.raises(AtlasStorageError, match="cannot read s3://no-such-bucket/landing"):
        storage.resolve_source(f"customers/{DS}/*.csv")


def test_refused_credentials_fail_at_once(monkeypatch, tmp_path):
    """Against an S3 that checks signatures (moto with authentication on), credentials the server
    does not know are refused (403): a permanent error naming the URL, not an endless poke. (On
    AWS, a worker without credentials reads anonymously and gets the same AccessDenied.)"""
    _require_s3fs()
    from airflow import settings as airflow_settings

    from atlas import storage
    from atlas.errors import AtlasStorageError

    monkeypatch.setattr(airflow_settings, "PLUGINS_FOLDER", str(tmp_path / "airflow-plugins"))
    with _moto_server(INITIAL_NO_AUTH_ACTION_COUNT="0") as endpoint:
        unknown = {"conn_type": "aws", "login": "AKIAUNKNOWN000000000", "password": "not-a-key",
                   "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
        monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(unknown))
        monkeypatch.setenv("ATLAS_STORAGE_CONN_ID", "aws_default")
        monkeypatch.setenv("ATLAS_LANDING_URL", "s3://atlas-landing")
        with pytest.raises(AtlasStorageError, match="cannot read s3://atlas-landing: PermissionError"):
            storage.resolve_source(f"customers/{DS}/*.csv")


def test_storage_errors_that_waiting_cannot_fix_are_permanent():
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError

    from atlas.errors import AtlasStorageError
    from atlas.sources import storage_errors

    for error in (NoCredentialsError(), PermissionError("Access Denied"), FileNotFoundError("NoSuchBucket")):
        with pytest.raises(AtlasStorageError, match=f"cannot read s3://b/landing: {type(error).__name__}"):
            with storage_errors("s3://b/landing"):
                raise error
    with pytest.raises(EndpointConnectionError):  # transient: the retry policy retries it
        with storage_errors("s3://b/landing"):
            raise EndpointConnectionError(endpoint_url="http://s3")
