"""Landing area and lake as Airflow ObjectStoragePaths (local folder by default, s3:// by URL)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from atlas import settings

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

CHUNK_BYTES = 1 << 20


def _path(url: str) -> ObjectStoragePath:
    from airflow.sdk import ObjectStoragePath

    conn_id = settings.storage_conn_id() if url.startswith("s3://") else None
    return ObjectStoragePath(url, conn_id=conn_id)


def landing_root() -> ObjectStoragePath:
    return _path(settings.landing_url())


def lake_root() -> ObjectStoragePath:
    return _path(settings.lake_url())


def find_landed(pattern: str) -> list[ObjectStoragePath]:
    """Files under the landing root matching a rendered glob, sorted for a stable order."""
    return sorted((p for p in landing_root().glob(pattern) if p.is_file()), key=str)


def resolve_source(path_or_pattern: str) -> list[ObjectStoragePath]:
    """A full URL names one file; anything else is a glob under the landing root."""
    if "://" in path_or_pattern:
        path = _path(path_or_pattern)
        return [path] if path.is_file() else []
    return find_landed(path_or_pattern)


def sha256_of(path: ObjectStoragePath) -> str:
    """Checksum of a file's bytes, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def archive_raw(source: ObjectStoragePath, table: str, ds: str, checksum: str) -> ObjectStoragePath:
    """Copy the landed file unchanged into the lake's bronze archive (idempotent by checksum)."""
    target_dir = lake_root() / "bronze" / table / f"ingest_date={ds}"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{checksum[:16]}__{source.name}"
    if target.exists():
        return target
    partial = target_dir / f".{target.name}.partial"
    with source.open("rb") as src, partial.open("wb") as dst:
        while chunk := src.read(CHUNK_BYTES):
            dst.write(chunk)
    partial.rename(target)
    return target


def lineage_namespace(path: ObjectStoragePath) -> tuple[str, str]:
    """OpenLineage (namespace, name) for a lake or landing file."""
    if path.protocol in ("s3", "s3a"):
        bucket, _, key = path.path.partition("/")
        return f"s3://{bucket}", key
    return "file", path.path
