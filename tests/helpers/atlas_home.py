"""An isolated ATLAS_HOME: its own embedded warehouse, landing area and lake.

For tests that run whole DAGs in subprocesses (a real Airflow, ``airflow dags test``) and assert
on their outcome: other tests' runs in the session's warehouse (e.g. the same customer ids for a
newer date, which win in silver) cannot change what these runs produce.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock


@dataclass(frozen=True)
class AtlasHome:
    path: Path
    dsn: str
    landing: Path

    @property
    def env(self) -> dict[str, str]:
        """Variables that point a subprocess (Airflow, its tasks) at this home."""
        return {"ATLAS_HOME": str(self.path)}


@contextmanager
def isolated_atlas_home(path: Path) -> Iterator[AtlasHome]:
    """Start an embedded warehouse under ``path`` (bootstrapped), yield the home, stop it on exit."""
    from atlas import settings
    from atlas.warehouse import connect, embedded, ensure_warehouse

    with mock.patch.dict(os.environ, {"ATLAS_HOME": str(path)}):
        data_dir = settings.embedded_warehouse_dir()
        landing = Path(settings.landing_url().removeprefix("file://"))
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        dsn = embedded.ensure_running(data_dir)
        conn = connect(dsn)
        try:
            ensure_warehouse(conn)
        finally:
            conn.close()
        yield AtlasHome(path, dsn, landing)
    finally:
        embedded.stop(data_dir)
