"""Environment for running Atlas locally: Airflow home, DAG folder, keys, lineage file, no telemetry.

Used by ``make demo``, ``make ui`` and the tests so all of them see the same warehouse, lake and
Airflow metadata. Values already set in the environment win (a configured production setup is
never overridden).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from atlas import settings

PII_KEY_ENV = "AIRFLOW_CONN_" + settings.PII_KEY_CONN_ID.upper()


def _dev_pii_key(home: Path) -> str:
    """A local key pair kept in ATLAS_HOME/secrets (created once, never committed)."""
    path = home / "secrets" / "pii_key.json"
    if not path.exists():
        from cryptography.fernet import Fernet

        path.parent.mkdir(parents=True, exist_ok=True)
        conn = {"conn_type": "generic", "password": secrets.token_hex(32),
                "extra": {"encryption_key": Fernet.generate_key().decode()}}
        path.write_text(json.dumps(conn), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8")


def configure(home: Path | None = None) -> dict[str, str]:
    """Set (setdefault) the variables a local Atlas needs; returns what it set."""
    home = home or settings.atlas_home()
    home.mkdir(parents=True, exist_ok=True)
    values = {
        "ATLAS_HOME": str(home),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "atlas",
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(home / "lineage" / "openlineage.jsonl"), "append": True}),
        "OTEL_SDK_DISABLED": "true",
        "SODA_DISABLE_TELEMETRY": "true",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(settings.PROJECT_ROOT / "plugins"),
                                                   os.environ.get("PYTHONPATH")])),
        PII_KEY_ENV: _dev_pii_key(home),
    }
    (home / "lineage").mkdir(exist_ok=True)
    applied = {}
    for key, value in values.items():
        if key == "PYTHONPATH" or key not in os.environ:
            os.environ[key] = value
            applied[key] = value
    return applied
