"""The embedded warehouse starts from any path: a data directory too deep for a Unix socket gets a
short socket directory under the system temp dir, the same one in every process."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from atlas.warehouse import embedded


def test_deep_data_directory_starts_and_reconnects(tmp_path):
    data_dir = tmp_path / ("deep-" * 12) / ("deeper-" * 10) / "warehouse" / "pgdata"
    assert not embedded.socket_fits(data_dir), "the default socket path would be too long"
    try:
        dsn = embedded.ensure_running(data_dir)
        import psycopg2

        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT current_database()")
            assert cur.fetchone() == ("atlas",)
        socket_dir = embedded.short_runtime_dir(data_dir)
        assert socket_dir.parent == Path(tempfile.gettempdir())
        assert f"host={socket_dir}/" in dsn
        # another process (an Airflow task) attaches to the same running server
        code = ("import sys; from pathlib import Path; from atlas.warehouse import embedded; "
                "print(embedded.ensure_running(Path(sys.argv[1])))")
        other = subprocess.run([sys.executable, "-c", code, str(data_dir)], capture_output=True, text=True,
                               check=True, env={**os.environ, "PYTHONPATH": "plugins"})
        assert other.stdout.strip().splitlines()[-1] == dsn
    finally:
        embedded.stop(data_dir)
    assert not embedded.is_running(data_dir)
    assert not embedded.short_runtime_dir(data_dir).exists(), "stop removes the short socket directory"
