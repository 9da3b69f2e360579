"""Rewrite every version of an AI-ready dataset without the subject's rows (by ``row_key``).

A version folder's Parquet files are rewritten with the publish's own writer options and row
groups, and republished through the same staging/manifest-last path; the manifest gets the new
files, row counts and content hash plus an ``erasures`` entry (request id, rows removed). The
feature statistics (means, deviations, vocabularies) are kept: they are aggregates over the
version's rows and every other row was scaled with them. ``ai_ready.<name>`` loses the rows and
``atlas_meta.ai_ready_versions`` follows the manifests. The caller holds the dataset's publish lock.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from atlas.ai_ready import lake
from atlas.ai_ready.features import quote_ident
from atlas.ai_ready.manifest import DataFile, Manifest, read_manifest
from atlas.config import AiReadySpec

if TYPE_CHECKING:
    import pyarrow as pa
    from airflow.sdk import ObjectStoragePath
    from psycopg2.extensions import connection as PgConnection


def _matches(path: ObjectStoragePath, row_keys: pa.Array) -> int:
    """Rows of one Parquet file whose row_key is one of ``row_keys`` (reads that column only)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    with path.open("rb") as handle:
        keys = pq.read_table(handle, columns=["row_key"]).column("row_key")
    return int(pc.sum(pc.is_in(keys, value_set=row_keys)).as_py() or 0)


def _kept_row_groups(path: ObjectStoragePath, row_keys: pa.Array, rows_per_group: int) -> Iterator[pa.Table]:
    """The file's rows without ``row_keys``, re-cut into row groups of ``rows_per_group`` rows."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    buffered: list[pa.Table] = []
    size = 0
    with path.open("rb") as handle:
        parquet = pq.ParquetFile(handle)
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group)
            kept = table.filter(pc.invert(pc.is_in(table.column("row_key"), value_set=row_keys)))
            buffered.append(kept)
            size += kept.num_rows
            while size >= rows_per_group:
                merged = pa.concat_tables(buffered)
                yield merged.slice(0, rows_per_group)
                rest = merged.slice(rows_per_group)
                buffered, size = [rest], rest.num_rows
    if size:
        yield pa.concat_tables(buffered)


def _schema(path: ObjectStoragePath) -> pa.Schema:
    import pyarrow.parquet as pq

    with path.open("rb") as handle:
        return pq.ParquetFile(handle).schema_arrow


def _write_local(local: Path, files: Iterable[ObjectStoragePath], row_keys: pa.Array) -> list[DataFile]:
    from atlas.ai_ready.publish import DEFAULT_ROW_GROUP_ROWS

    return [lake.write_parquet(local / path.name, _schema(path),
                               _kept_row_groups(path, row_keys, DEFAULT_ROW_GROUP_ROWS)) for path in files]


def rewrite_version(root: ObjectStoragePath, folder: ObjectStoragePath, row_keys: pa.Array,
                    request_id: str) -> tuple[int, int, Manifest | None]:
    """(rows removed, files rewritten, new manifest or None) for one ``version=`` folder."""
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".parquet")), key=lambda p: p.name)
    removed = sum(_matches(p, row_keys) for p in files)
    manifest_path = folder / lake.MANIFEST
    manifest = read_manifest(manifest_path) if manifest_path.exists() else None
    if not removed:
        return 0, 0, manifest
    with tempfile.TemporaryDirectory(prefix="atlas-erasure-") as tmp:
        local = Path(tmp)
        written = {f.path: f for f in _write_local(local, files, row_keys)}
        if manifest is None:  # a version being replaced (no commit marker yet): fix its files in place
            for name in written:
                target = folder / name
                work = folder / f".{name}.erasure"
                with (local / name).open("rb") as src, work.open("wb") as dst:
                    while block := src.read(lake.CHUNK_BYTES):
                        dst.write(block)
                work.replace(target)
            return removed, len(written), None
        ordered = tuple(dataclasses.replace(written[f.path], split=f.split) for f in manifest.files)
        updated = dataclasses.replace(
            manifest, files=ordered, content_hash=lake.content_hash(local, ordered),
            erasures=(*manifest.erasures, (request_id, removed)))
        lake.publish_version(root, local, updated)
    return removed, len(ordered), updated


def erase_from_dataset(conn: PgConnection, dataset: AiReadySpec, root: ObjectStoragePath, row_keys: set[str],
                       request_id: str) -> dict[str, int]:
    """Remove ``row_keys`` from every lake version, ``ai_ready.<name>`` and the version rows."""
    import pyarrow as pa

    from atlas.retention.lake import dated_folders, files_under

    counts = {"versions": 0, "files": 0, "rows": 0, "table_rows": 0, "staging_files": 0}
    keys = pa.array(sorted(row_keys), pa.string())
    base = lake.dataset_dir(root, dataset.name)
    manifests: dict[str, Manifest] = {}
    if base.exists():
        staging = base / "_staging"  # left by a failed publish: nothing publishes while we hold the lock
        if staging.exists():
            counts["staging_files"] = files_under(staging)
            staging.rmdir(recursive=True)
        for version, folder in dated_folders(base, "version"):
            removed, files, manifest = rewrite_version(root, folder, keys, request_id)
            if manifest is not None:
                manifests[version] = manifest
            if removed:
                counts["versions"] += 1
                counts["files"] += files
                counts["rows"] += removed
    table = f"ai_ready.{quote_ident(dataset.name)}"
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
            if cur.fetchone()[0] and row_keys:
                cur.execute(f"DELETE FROM {table} WHERE row_key = ANY(%s)", (sorted(row_keys),))
                counts["table_rows"] = cur.rowcount
            for version, manifest in manifests.items():  # also repairs rows a failed attempt left behind
                cur.execute("UPDATE atlas_meta.ai_ready_versions SET row_count = %s, content_hash = %s "
                            "WHERE dataset = %s AND version = %s AND (row_count <> %s OR content_hash <> %s)",
                            (manifest.total_rows, manifest.content_hash, dataset.name, version,
                             manifest.total_rows, manifest.content_hash))
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return counts
