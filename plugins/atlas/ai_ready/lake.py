"""Versioned Parquet in the lake: deterministic files, staged, then moved in with the manifest last.

Layout: ``<root>/ai_ready/<name>/version=<logical_date>/{train,validation,test}.parquet`` +
``manifest.json``. Files are first written to a local temporary folder (hashed there), uploaded
to ``<root>/ai_ready/<name>/_staging/version=<date>/`` and then moved into the version folder:
the old manifest is removed first and the new one written last, so ``manifest.json`` is the
commit marker (a version folder without one is being replaced).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from atlas.ai_ready.manifest import DataFile, Manifest
from atlas.storage import url_of

__all__ = ["url_of"]  # plain URLs of lake paths (used by publish and manifest)

if TYPE_CHECKING:
    import pyarrow as pa
    from airflow.sdk import ObjectStoragePath

CHUNK_BYTES = 1 << 20
MANIFEST = "manifest.json"
# Fixed writer options: the same rows always give the same bytes (no timestamps in Parquet).
PARQUET_OPTIONS = {
    "compression": "zstd",
    "compression_level": 3,
    "version": "2.6",
    "data_page_version": "1.0",
    "use_dictionary": True,
    "write_statistics": True,
}


def lake_path(url: str, conn_id: str | None = None) -> ObjectStoragePath:
    """An ObjectStoragePath for a URL (a bare absolute path means the local file system)."""
    from airflow.sdk import ObjectStoragePath

    if "://" not in url:
        url = "file://" + str(Path(url).resolve())
    return ObjectStoragePath(url, conn_id=conn_id if not url.startswith("file://") else None)


def dataset_dir(root: ObjectStoragePath, name: str) -> ObjectStoragePath:
    return root / "ai_ready" / name


def version_dir(root: ObjectStoragePath, name: str, version: str) -> ObjectStoragePath:
    return dataset_dir(root, name) / f"version={version}"


def write_parquet(path: Path, schema: pa.Schema, tables: Iterable[pa.Table]) -> DataFile:
    """Write each table as one row group to a local file; returns its size, rows and sha256."""
    import pyarrow.parquet as pq

    rows = 0
    with pq.ParquetWriter(str(path), schema, **PARQUET_OPTIONS) as writer:
        for table in tables:
            writer.write_table(table, row_group_size=max(table.num_rows, 1))
            rows += table.num_rows
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            digest.update(block)
    return DataFile(path.stem, path.name, rows, path.stat().st_size, digest.hexdigest())


def content_hash(local_dir: Path, files: Iterable[DataFile]) -> str:
    """sha256 over the data files' bytes, concatenated in the given (split) order."""
    digest = hashlib.sha256()
    for data_file in files:
        with (local_dir / data_file.path).open("rb") as handle:
            while block := handle.read(CHUNK_BYTES):
                digest.update(block)
    return digest.hexdigest()


def publish_version(root: ObjectStoragePath, local_dir: Path, manifest: Manifest) -> ObjectStoragePath:
    """Upload the local files to staging, move them into the version folder, manifest last."""
    staging = dataset_dir(root, manifest.dataset) / "_staging" / f"version={manifest.version}"
    final = version_dir(root, manifest.dataset, manifest.version)
    _remove(staging)
    staging.mkdir(parents=True, exist_ok=True)
    for data_file in manifest.files:
        _upload(local_dir / data_file.path, staging / data_file.path)

    final.mkdir(parents=True, exist_ok=True)
    if final.exists():  # a rerun: un-publish first (manifest), then drop files not rewritten
        (final / MANIFEST).unlink(missing_ok=True)
        keep = {f.path for f in manifest.files}
        for stale in [p for p in final.iterdir() if p.name not in keep]:
            _remove(stale)
    for data_file in manifest.files:
        (staging / data_file.path).replace(final / data_file.path)
    with (final / MANIFEST).open("wb") as handle:
        handle.write(manifest.to_json().encode("utf-8"))
    _remove(staging)
    if staging.parent.exists() and not any(staging.parent.iterdir()):
        _remove(staging.parent)
    return final / MANIFEST


def _upload(source: Path, target: ObjectStoragePath) -> None:
    with source.open("rb") as src, target.open("wb") as dst:
        while block := src.read(CHUNK_BYTES):
            dst.write(block)


def _remove(path: ObjectStoragePath) -> None:
    if path.is_dir():
        path.rmdir(recursive=True)
    elif path.exists():
        path.unlink()
