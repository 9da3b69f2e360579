"""Where Atlas reads and writes, from environment variables with local defaults."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WAREHOUSE_CONN_ID = "atlas_warehouse"
PII_KEY_CONN_ID = "atlas_pii_key"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def atlas_home() -> Path:
    return Path(_env("ATLAS_HOME", str(PROJECT_ROOT / ".atlas")))


def include_dir() -> Path:
    return Path(_env("ATLAS_INCLUDE_DIR", str(PROJECT_ROOT / "include")))


def tables_dir() -> Path:
    return Path(_env("ATLAS_TABLES_DIR", str(include_dir() / "tables")))


def landing_url() -> str:
    """Root of the landing area: a local folder by default, s3://bucket/prefix in production."""
    return _env("ATLAS_LANDING_URL", f"file://{atlas_home() / 'landing'}")


def lake_url() -> str:
    """Root of the lake (bronze archive, AI-ready Parquet)."""
    return _env("ATLAS_LAKE_URL", f"file://{atlas_home() / 'lake'}")


def storage_conn_id() -> str | None:
    """Airflow connection for s3:// landing and lake URLs (ignored for file://)."""
    return os.environ.get("ATLAS_STORAGE_CONN_ID", "aws_default")


def embedded_warehouse_dir() -> Path:
    return atlas_home() / "warehouse" / "pgdata"


def strict_config() -> bool:
    """A broken table config fails the whole DAG file instead of only its own DAG."""
    return os.environ.get("ATLAS_STRICT_CONFIG", "").lower() in {"1", "true", "yes"}
