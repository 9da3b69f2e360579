"""Lake layers through ObjectStoragePath (local folder or s3://): raw archive and AI-ready versions.

Files cannot join a database transaction: folders are deleted first, then what was actually
deleted is recorded (and, for AI-ready, the version rows removed) in one transaction. A run that
fails half-way records what it deleted; the next run finds the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from atlas.config import TableSpec
from atlas.retention.purge import Purge, record

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath
    from psycopg2.extensions import connection as PgConnection

_DAY = r"(\d{4}-\d{2}-\d{2})"


def dated_folders(base: ObjectStoragePath, prefix: str) -> list[tuple[str, ObjectStoragePath]]:
    """``<prefix>=YYYY-MM-DD`` folders directly under ``base`` as (date, folder), oldest first."""
    if not base.exists():
        return []
    pattern = re.compile(re.escape(prefix) + "=" + _DAY)
    found = []
    for child in base.iterdir():
        match = pattern.fullmatch(child.name)
        if match and child.is_dir():
            found.append((match.group(1), child))
    return sorted(found, key=lambda item: item[0])


def files_under(folder: ObjectStoragePath) -> int:
    """Number of files below ``folder`` (one listing, also on S3)."""
    return len(folder.fs.find(folder.path))


class _Deleted:
    """Folders deleted so far: dates, file count and URLs."""

    def __init__(self) -> None:
        self.dates: list[str] = []
        self.files = 0
        self.objects: list[str] = []

    def purge(self, table: str, layer: str, days: int, cutoff: date) -> Purge:
        return Purge(table, layer, days, cutoff.isoformat(), tuple(self.dates), 0, self.files, tuple(self.objects))

    def delete(self, folders: Iterable[tuple[str, ObjectStoragePath]]) -> None:
        from atlas.storage import url_of

        for day, folder in folders:
            files = files_under(folder)
            folder.rmdir(recursive=True)
            self.dates.append(day)
            self.files += files
            self.objects.append(url_of(folder))


def _record_alone(conn: PgConnection, purge: Purge, run_id: str) -> None:
    """Record a purge of files in a transaction of its own (if it deleted anything)."""
    if purge.changed:
        with conn.cursor() as cur:
            record(cur, purge, run_id)
        conn.commit()


def purge_archive(conn: PgConnection, spec: TableSpec, days: int, cutoff: date, run_id: str,
                  root: ObjectStoragePath) -> Purge:
    """Delete ``bronze/<table>/ingest_date=<day>/`` folders dated before ``cutoff``."""
    expired = [(d, f) for d, f in dated_folders(root / "bronze" / spec.table, "ingest_date")
               if d < cutoff.isoformat()]
    deleted = _Deleted()
    try:
        deleted.delete(expired)
    finally:  # also after a failure: what is gone is recorded
        purge = deleted.purge(spec.table, "archive", days, cutoff)
        _record_alone(conn, purge, run_id)
    return purge


def purge_ai_ready(conn: PgConnection, spec: TableSpec, days: int, cutoff: date, run_id: str,
                   root: ObjectStoragePath) -> Purge | None:
    """Delete AI-ready versions dated before ``cutoff``: lake folders, then in one transaction
    their version rows, and ``ai_ready.<name>`` when the version it holds (the last published)
    is expired. ``rows`` counts the dataset rows of the deleted versions.

    Holds the dataset's publish lock, so no publish of the same dataset runs meanwhile.
    """
    from atlas.ai_ready.lake import dataset_dir
    from atlas.warehouse.locks import ai_ready_lock_key, session_locks

    dataset = spec.ai_ready
    if dataset is None:
        return None
    cut = cutoff.isoformat()
    table = f"ai_ready.{dataset.name}"
    with session_locks(conn, [ai_ready_lock_key(dataset.name)]):
        with conn.cursor() as cur:
            cur.execute("SELECT version FROM atlas_meta.ai_ready_versions WHERE dataset = %s "
                        "ORDER BY published_at DESC, version DESC LIMIT 1", (dataset.name,))
            current = (cur.fetchone() or [None])[0]
        conn.commit()
        deleted = _Deleted()
        try:
            deleted.delete((v, f) for v, f in dated_folders(dataset_dir(root, dataset.name), "version") if v < cut)
        except BaseException:  # version rows stay until their folders are gone; the files are recorded
            _record_alone(conn, deleted.purge(spec.table, "ai_ready", days, cutoff), run_id)
            raise
        versions, rows, objects = set(deleted.dates), 0, list(deleted.objects)
        with conn, conn.cursor() as cur:  # commits, or rolls back on any error
            cur.execute("DELETE FROM atlas_meta.ai_ready_versions WHERE dataset = %s AND version < %s "
                        "RETURNING version, row_count", (dataset.name, cut))
            for version, count in cur.fetchall():
                versions.add(version)
                rows += count
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
            if current is not None and current < cut and cur.fetchone()[0]:
                cur.execute(f"DROP TABLE {table}")
                objects.append(table)
            purge = Purge(spec.table, "ai_ready", days, cut, tuple(sorted(versions)), rows, deleted.files,
                          tuple(objects))
            if purge.changed:
                record(cur, purge, run_id)
    return purge
