"""Shared fixtures: an isolated ATLAS_HOME and a real embedded PostgreSQL per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

_SESSION_HOME = Path(os.environ.get("ATLAS_TEST_HOME", "/tmp")) / f"atlas-test-{os.getpid()}"
os.environ["ATLAS_HOME"] = str(_SESSION_HOME)
os.environ.setdefault("AIRFLOW_HOME", str(_SESSION_HOME / "airflow"))
os.environ["ATLAS_STRICT_CONFIG"] = "1"
os.environ["OTEL_SDK_DISABLED"] = "true"
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "false")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "false")

from atlas import runtime_env  # noqa: E402 - after ATLAS_HOME is set

runtime_env.configure(_SESSION_HOME)


@pytest.fixture(scope="session")
def warehouse_dsn() -> Iterator[str]:
    """DSN of a real PostgreSQL: the configured AIRFLOW_CONN_ATLAS_WAREHOUSE, else embedded."""
    from atlas import settings
    from atlas.warehouse import connect, embedded, ensure_warehouse, resolve_dsn

    dsn = resolve_dsn()
    conn = connect(dsn)
    ensure_warehouse(conn)
    conn.close()
    yield dsn
    embedded.stop(settings.embedded_warehouse_dir())


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """Airflow's metadata database (SQLite in the session's AIRFLOW_HOME), migrated once."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    return os.environ["AIRFLOW_HOME"]


@pytest.fixture
def wh_conn(warehouse_dsn: str) -> Iterator[object]:
    """A psycopg2 connection to the test warehouse, closed after the test."""
    from atlas.warehouse import connect

    conn = connect(warehouse_dsn)
    yield conn
    conn.rollback()
    conn.close()


@pytest.fixture
def scratch_schema(wh_conn: object) -> Iterator[str]:
    """A schema of the test's own in the warehouse, dropped with everything in it afterwards."""
    import uuid

    name = f"scratch_{uuid.uuid4().hex[:8]}"
    with wh_conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA {name}")
    wh_conn.commit()
    yield name
    wh_conn.rollback()
    with wh_conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA {name} CASCADE")
    wh_conn.commit()


@pytest.fixture(autouse=True)
def _fresh_object_stores() -> Iterator[None]:
    """Airflow and fsspec cache filesystems per protocol/connection; a cached S3 filesystem would
    keep pointing at a previous test's (stopped) S3 server."""
    yield
    import sys

    store = sys.modules.get("airflow.sdk.io.store")
    if store is not None:
        store._STORE_CACHE.clear()
    s3fs = sys.modules.get("s3fs")
    if s3fs is not None:
        s3fs.S3FileSystem.clear_instance_cache()
