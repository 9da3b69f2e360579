"""Landing area and lake as Airflow ObjectStoragePaths (local folder by default, s3:// by URL)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from atlas import settings, sources

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

CHUNK_BYTES = 1 << 20


def _path(url: str) -> ObjectStoragePath:
    from airflow.sdk import ObjectStoragePath

    conn_id = settings.storage_conn_id() if url.startswith("s3://") else None
    return ObjectStoragePath(url, conn_id=conn_id)


def url_of(path: ObjectStoragePath) -> str:
    """A plain URL for a path (no connection id inside, unlike ``str(path)`` on s3)."""
    return f"{path.protocol}://{path.path}" if path.protocol != "file" else f"file://{path.path}"


def landing_root_url() -> str:
    """The landing root as a URL (``file://`` for a local folder)."""
    return settings.landing_url()


def landing_root() -> ObjectStoragePath:
    return _path(landing_root_url())


def lake_root() -> ObjectStoragePath:
    return _path(settings.lake_url())


def resolve_source(path_or_pattern: str, allowed_roots: Sequence[str] = (),
                   param: str | None = None) -> list[ObjectStoragePath]:
    """The landed files a run ingests.

    A full URL names one file, which must lie under the landing root or one of
    ``allowed_roots``; anything else is a glob relative to the landing root. The value is
    checked before anything is opened (:func:`atlas.sources.check_source`): ``..``, absolute
    paths, other schemes or buckets and symlinks out of the roots raise
    :class:`~atlas.errors.AtlasSourceError` naming ``param`` (when the value came from one).
    Permanent storage errors (no such bucket, access denied, no credentials) raise
    :class:`~atlas.errors.AtlasStorageError` instead of looking like "not there yet".
    """
    value = sources.check_source(path_or_pattern, landing_root_url(), allowed_roots, param)
    with sources.storage_errors(value if "://" in value else landing_root_url()):
        if "://" in value:
            path = _path(value)
            found = [path] if path.is_file() else []
            root = _path(sources.root_of(value, landing_root_url(), allowed_roots))
        else:
            found = sorted((p for p in landing_root().glob(value) if p.is_file()), key=str)
            root = landing_root()
        if not found:
            sources.check_root_reachable(root)
    for path in found:
        sources.check_contained(path, landing_root_url(), allowed_roots)
    return found


def landed_paths(urls: Sequence[str], allowed_roots: Sequence[str] = ()) -> list[ObjectStoragePath]:
    """ObjectStoragePaths for file URLs a sensor found, checked against the roots again."""
    paths = []
    for url in urls:
        sources.check_source(url, landing_root_url(), allowed_roots, None)
        path = _path(url)
        sources.check_contained(path, landing_root_url(), allowed_roots)
        paths.append(path)
    return paths


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
