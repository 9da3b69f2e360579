"""Publish one AI-ready dataset version: lake Parquet + manifest, ``ai_ready.<name>``, version row.

One REPEATABLE READ transaction sees a single snapshot of the source: statistics and
vocabularies are computed in SQL, then the source is streamed in chunks of ``chunk_size`` rows
(COPY to a temporary file, read back as Arrow batches), transformed and COPYed into
``ai_ready.<name>__next``. PostgreSQL then sorts each split by ``row_key`` and the Parquet files
are written from it in row groups of ``row_group_size`` rows: memory stays bounded and the bytes
do not depend on ``chunk_size``. The leak guards (``before_publish``) check the staging table
before anything is written to the lake; the lake version is published (manifest last) before the
table swap and the version row commit. A failure leaves the warehouse and the lake's published
versions unchanged, and a rerun repairs the lake.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import atlas
from atlas.ai_ready import lake, tables
from atlas.ai_ready.features import MAX_CATEGORIES, SPLITS, FeaturePlan, build_plan, quote_table
from atlas.ai_ready.manifest import Manifest
from atlas.config import AiReadySpec
from atlas.errors import AtlasError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection
    from psycopg2.extensions import cursor as PgCursor

log = logging.getLogger(__name__)
DEFAULT_CHUNK_ROWS = 50_000
DEFAULT_ROW_GROUP_ROWS = 100_000
MAX_NAME = 52  # "<name>__next_pkey" must fit PostgreSQL's 63 characters


def publish_ai_ready(
    conn: PgConnection,
    spec: AiReadySpec,
    lake_root: str,
    hmac_key: bytes,
    run_id: str,
    logical_date: str,
    storage_conn_id: str | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK_ROWS,
    row_group_size: int = DEFAULT_ROW_GROUP_ROWS,
    max_categories: int = MAX_CATEGORIES,
    before_publish: Callable[..., None] | None = None,
) -> Manifest:
    """Build, write and register version ``logical_date`` of ``spec.name``; a rerun replaces it.

    ``conn`` is a psycopg2 connection without an open transaction; this function commits.
    ``before_publish(conn, staging, vocabularies)`` runs in the transaction once
    ``ai_ready.<name>__next`` is loaded, before the lake or the table change, with the category
    vocabularies the manifest will list: when it raises, nothing is published.
    """
    version = date.fromisoformat(logical_date).isoformat()
    if not hmac_key:
        raise AtlasError("an HMAC key is required to pseudonymize the row key")
    if len(spec.name) > MAX_NAME:
        raise AtlasError(f"ai_ready.name '{spec.name}' is longer than {MAX_NAME} characters")
    if chunk_size < 1 or row_group_size < 1:
        raise ValueError("chunk_size and row_group_size must be positive")
    root = lake.lake_path(lake_root, storage_conn_id)
    started = time.monotonic()
    with _dataset_lock(conn, spec.name):
        try:
            manifest = _publish(conn, spec, root, hmac_key, run_id, version, chunk_size, row_group_size,
                                max_categories, before_publish)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
    log.info("published %s version %s: %s rows, content %s, in %.1fs", spec.name, version,
             manifest.row_counts, manifest.content_hash[:12], time.monotonic() - started)
    return manifest


def _publish(conn: PgConnection, spec: AiReadySpec, root: Any, hmac_key: bytes, run_id: str, version: str,
             chunk_size: int, row_group_size: int, max_categories: int,
             before_publish: Callable[..., None] | None) -> Manifest:
    with conn.cursor() as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        plan = build_plan(cur, spec, max_categories)
        source_run_id = _source_run_id(cur, spec.source)
        staging = tables.create_next(cur, spec.name, plan)

    schema = plan.arrow_schema()
    with tempfile.TemporaryDirectory(prefix="atlas-ai-ready-") as tmp:
        _load(conn, plan, staging, hmac_key, chunk_size, tmp)
        with conn.cursor() as cur:
            tables.add_key(cur, spec.name)
        if before_publish is not None:  # the leak guards: nothing is written anywhere if they fire
            vocabularies = [(f"{cat.name} (vocabulary)", cat.vocabulary) for cat in plan.categorical]
            before_publish(conn, f"{tables.SCHEMA}.{spec.name}__next", vocabularies)
        local = Path(tmp)
        files = tuple(
            lake.write_parquet(local / f"{split}.parquet", schema, tables.copy_out(
                conn, tables.split_query(staging, plan, split), schema, row_group_size, tmp))
            for split in SPLITS
        )
        manifest = Manifest(
            dataset=spec.name, version=version, logical_date=version, run_id=run_id,
            source_table=spec.source, source_run_id=source_run_id, table=tables.table_name(spec.name),
            key_column=spec.key, split_fractions=spec.split,
            schema=tuple((f.name, str(f.type)) for f in schema),
            numeric=plan.numeric, categorical=plan.categorical, files=files,
            content_hash=lake.content_hash(local, files), created_with=_created_with(),
            uri=lake.url_of(lake.version_dir(root, spec.name, version) / lake.MANIFEST),
        )
        if manifest.total_rows != plan.rows:
            raise AtlasError(f"{spec.name}: wrote {manifest.total_rows} rows, source has {plan.rows}")
        lake.publish_version(root, local, manifest)

    with conn.cursor() as cur:
        tables.swap(cur, spec.name)
        tables.record_version(cur, manifest)
    return manifest


def _load(conn: PgConnection, plan: FeaturePlan, staging: str, hmac_key: bytes, chunk_size: int,
          spool_dir: str) -> None:
    """Stream the source through the transform into the staging table, ``chunk_size`` rows at a time."""
    chunks = tables.copy_out(conn, plan.source_select(), plan.source_schema(), chunk_size, spool_dir)
    with conn.cursor() as cur:
        for chunk in chunks:
            tables.copy_in(cur, staging, plan.transform(chunk, hmac_key))


def _source_run_id(cur: PgCursor, source: str) -> str | None:
    """The latest ``_atlas_run_id`` in the source (a gold table carries exactly one), if it has one."""
    schema, table = source.split(".")
    cur.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                "AND column_name = '_atlas_run_id'", (schema, table))
    if cur.fetchone() is None:
        return None
    cur.execute(f"SELECT max(_atlas_run_id) FROM {quote_table(source)}")
    return cur.fetchone()[0]


def _created_with() -> tuple[tuple[str, str], ...]:
    import pyarrow as pa

    options = ", ".join(f"{k}={v}" for k, v in lake.PARQUET_OPTIONS.items())
    return (("atlas", atlas.__version__), ("pyarrow", pa.__version__), ("parquet", options))


@contextmanager
def _dataset_lock(conn: PgConnection, name: str) -> Iterator[None]:
    """Serialize publishes of one dataset (session advisory lock, taken outside the snapshot)."""
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE

    if conn.get_transaction_status() != TRANSACTION_STATUS_IDLE:
        raise AtlasError("publish_ai_ready needs a connection without an open transaction")
    from atlas.warehouse.locks import ai_ready_lock_key, session_locks

    autocommit = conn.autocommit
    conn.autocommit = False
    try:
        with session_locks(conn, [ai_ready_lock_key(name)]):
            yield
    finally:
        if conn.closed == 0:
            conn.autocommit = autocommit
