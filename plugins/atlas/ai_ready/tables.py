"""Warehouse side: stream query results as Arrow, load ``ai_ready.<name>__next``, swap, record.

Query results leave PostgreSQL through ``COPY ... TO STDOUT (FORMAT csv)`` into a temporary
file (psycopg2 hands over one row per write, so batch boundaries are byte offsets) and are
parsed back by Arrow one batch at a time: memory stays bounded by the batch size, and it is
several times faster than fetching Python tuples.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from atlas.ai_ready.features import SPLITS, AiReadySourceError, FeaturePlan
from atlas.ai_ready.features import quote_ident as _q

if TYPE_CHECKING:
    import pyarrow as pa
    from psycopg2.extensions import connection as PgConnection
    from psycopg2.extensions import cursor as PgCursor

    from atlas.ai_ready.manifest import Manifest

SCHEMA = "ai_ready"
SQL_TYPES = {"text": 'text COLLATE "C"', "float": "double precision", "flag": "smallint"}


def table_name(name: str) -> str:
    return f"{SCHEMA}.{name}"


def staging_name(name: str) -> str:
    return f"{SCHEMA}.{_q(name + '__next')}"


def create_next(cur: PgCursor, name: str, plan: FeaturePlan) -> str:
    """(Re)create the empty staging table ``ai_ready.<name>__next``; returns its qualified name."""
    staging = staging_name(name)
    body = ", ".join(f"{_q(column)} {SQL_TYPES[kind]} NOT NULL" for column, kind in plan.columns())
    cur.execute(f"DROP TABLE IF EXISTS {staging}")
    cur.execute(f"CREATE TABLE {staging} ({body})")
    return staging


def copy_in(cur: PgCursor, staging: str, chunk: pa.Table) -> None:
    """COPY one feature chunk (CSV written by Arrow: exact round-trip floats)."""
    import pyarrow.csv as pacsv

    buffer = io.BytesIO()
    pacsv.write_csv(chunk, buffer)
    buffer.seek(0)
    columns = ", ".join(_q(c) for c in chunk.column_names)
    cur.copy_expert(f"COPY {staging} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true)", buffer)


def add_key(cur: PgCursor, name: str) -> None:
    """Primary key on ``row_key`` once loaded: one bulk index build that also proves the key unique."""
    from psycopg2 import errors

    try:
        cur.execute(
            f"ALTER TABLE {staging_name(name)} ADD CONSTRAINT {_q(name + '__next_pkey')} PRIMARY KEY (row_key)")
    except errors.UniqueViolation:
        raise AiReadySourceError(f"{name}: the source key is not unique") from None


def copy_out(conn: PgConnection, query: str, schema: pa.Schema, batch_rows: int, spool_dir: str) -> Iterator[pa.Table]:
    """Rows of ``query`` as Arrow tables of exactly ``batch_rows`` rows (the last may be shorter)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    read_options = pacsv.ReadOptions(column_names=schema.names, use_threads=False)
    parse_options = pacsv.ParseOptions(newlines_in_values=True)
    convert_options = pacsv.ConvertOptions(
        column_types=schema, null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False)
    with tempfile.TemporaryFile(dir=spool_dir) as spool:
        rows = _RowSpool(spool, batch_rows)
        with conn.cursor() as cur:
            cur.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", rows)
        bounds = rows.bounds()
        for start, end in pairwise(bounds):
            spool.seek(start)
            data = pa.py_buffer(spool.read(end - start))
            table = pacsv.read_csv(pa.BufferReader(data), read_options, parse_options, convert_options)
            yield table.cast(schema)


class _RowSpool:
    """COPY TO target: psycopg2 writes exactly one row per call; note the end of every n-th row."""

    def __init__(self, file: Any, rows_per_batch: int) -> None:
        self.file, self.every, self.rows, self.ends = file, rows_per_batch, 0, [0]

    def write(self, row: bytes) -> None:
        self.file.write(row)
        self.rows += 1
        if self.rows % self.every == 0:
            self.ends.append(self.file.tell())

    def bounds(self) -> list[int]:
        """Byte offsets of batch boundaries, from 0 to the end of the last row."""
        end = self.file.tell()
        return self.ends if self.ends[-1] == end else [*self.ends, end]


def split_query(staging: str, plan: FeaturePlan, split: str) -> str:
    """One split's rows of the staging table, ordered by ``row_key``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    columns = ", ".join(_q(c) for c, _ in plan.columns())
    return f"SELECT {columns} FROM {staging} WHERE split = '{split}' ORDER BY row_key"


def swap(cur: PgCursor, name: str) -> None:
    """Replace ``ai_ready.<name>`` by the staging table (inside the caller's transaction)."""
    cur.execute(f"ANALYZE {staging_name(name)}")
    cur.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{_q(name)}")
    cur.execute(f"ALTER TABLE {staging_name(name)} RENAME TO {_q(name)}")
    cur.execute(f"ALTER INDEX {SCHEMA}.{_q(name + '__next_pkey')} RENAME TO {_q(name + '_pkey')}")


def record_version(cur: PgCursor, manifest: Manifest) -> None:
    """Upsert the version row in ``atlas_meta.ai_ready_versions``."""
    cur.execute(
        """
        INSERT INTO atlas_meta.ai_ready_versions
            (dataset, version, table_name, manifest_path, content_hash, row_count, run_id, logical_date)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (dataset, version) DO UPDATE SET
            table_name = EXCLUDED.table_name, manifest_path = EXCLUDED.manifest_path,
            content_hash = EXCLUDED.content_hash, row_count = EXCLUDED.row_count,
            run_id = EXCLUDED.run_id, logical_date = EXCLUDED.logical_date, published_at = now()
        """,
        (manifest.dataset, manifest.version, manifest.table, manifest.uri, manifest.content_hash,
         manifest.total_rows, manifest.run_id, manifest.logical_date),
    )
