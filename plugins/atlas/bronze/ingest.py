"""Ingest landed files into ``bronze.<table>`` for one logical date, atomically and idempotently."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from atlas import storage
from atlas.bronze.readers import Malformed, reader_for
from atlas.config import TableSpec
from atlas.warehouse.bulk_copy import copy_rows
from atlas.warehouse.tables import BRONZE_META, ensure_tables

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)
CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class FileOutcome:
    source: str
    archive: str
    checksum: str
    rows: int
    malformed: int
    status: str  # ingested | duplicate_file


@dataclass
class BronzeResult:
    table: str
    logical_date: str
    files: list[FileOutcome] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files if f.status == "ingested")

    @property
    def malformed(self) -> int:
        return sum(f.malformed for f in self.files if f.status == "ingested")

    @property
    def ingested(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "ingested"]

    def summary(self) -> dict[str, Any]:
        """Small, value-free summary for XCom and logs."""
        return {
            "table": self.table, "logical_date": self.logical_date, "rows": self.rows,
            "malformed_rows": self.malformed,
            "files": [{"source": f.source, "archive": f.archive, "checksum": f.checksum, "rows": f.rows,
                       "malformed": f.malformed, "status": f.status} for f in self.files],
        }


def _already_ingested(cur: Any, table: str, checksum: str, ds: str) -> str | None:
    """The other logical date this exact file was ingested for, if any."""
    cur.execute(
        "SELECT logical_date::text FROM atlas_meta.ingested_files "
        "WHERE table_name = %s AND source_checksum = %s AND logical_date <> %s",
        (table, checksum, ds),
    )
    row = cur.fetchone()
    return row[0] if row else None


def _chunks(iterator: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(iterator, size)):
        yield chunk


def _load_file(cur: Any, spec: TableSpec, source: ObjectStoragePath, checksum: str,
               run_id: str, ds: str) -> tuple[int, int]:
    """COPY one file's rows into bronze and its malformed rows into quarantine."""
    columns = list(spec.table_schema.column_names)
    bronze_cols = columns + [name for name, _ in BRONZE_META if name != "_atlas_ingested_at"]
    quarantine_cols = ["_atlas_stage", "_atlas_rule", "_atlas_reason", "_atlas_run_id",
                       "_atlas_logical_date", "_atlas_source_file", "_atlas_row_number"]
    reader = reader_for(spec.source.format, str(source), columns, dict(spec.source.options))
    rows = malformed = 0
    with source.open("rb") as handle:
        for chunk in _chunks(reader.rows(handle), CHUNK_ROWS):
            good = [[*item[1], run_id, ds, str(source), checksum, item[0]]
                    for item in chunk if not isinstance(item, Malformed)]
            bad = [("bronze", "malformed_row", item.reason, run_id, ds, str(source), item.row_number)
                   for item in chunk if isinstance(item, Malformed)]
            rows += copy_rows(cur, f"bronze.{spec.table}", bronze_cols, good)
            malformed += copy_rows(cur, f"quarantine.{spec.table}", quarantine_cols, bad)
    return rows, malformed


def ingest(conn: Any, spec: TableSpec, sources: Sequence[ObjectStoragePath], run_id: str,
           ds: str, full_refresh: bool = False) -> BronzeResult:
    """Archive each file raw in the lake, then replace the logical date's bronze slice in one transaction.

    A file whose checksum was already ingested for another logical date is not ingested again,
    unless ``full_refresh`` (the DAG param) asks for it.
    """
    result = BronzeResult(spec.table, ds)
    with conn.cursor() as cur:
        ensure_tables(cur, spec)
        conn.commit()
        todo = []
        for source in sources:
            checksum = storage.sha256_of(source)
            archive = storage.archive_raw(source, spec.table, ds, checksum)
            other = None if full_refresh else _already_ingested(cur, spec.table, checksum, ds)
            if other:
                log.warning("%s was already ingested for %s (same checksum); not ingesting it again",
                            source, other)
                result.files.append(FileOutcome(str(source), str(archive), checksum, 0, 0, "duplicate_file"))
            else:
                todo.append((source, checksum, archive))
        if not todo:
            return result
        # One transaction: readers see the old slice until commit, never half a load.
        cur.execute(f"DELETE FROM bronze.{spec.table} WHERE _atlas_logical_date = %s", (ds,))
        cur.execute(f"DELETE FROM quarantine.{spec.table} WHERE _atlas_logical_date = %s "
                    "AND _atlas_stage = 'bronze'", (ds,))
        cur.execute("DELETE FROM atlas_meta.ingested_files WHERE table_name = %s AND logical_date = %s",
                    (spec.table, ds))
        for source, checksum, archive in todo:
            rows, malformed = _load_file(cur, spec, source, checksum, run_id, ds)
            cur.execute(
                "INSERT INTO atlas_meta.ingested_files (table_name, source_checksum, source_file, "
                "archive_path, logical_date, run_id, row_count, rejected_rows) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (spec.table, checksum, str(source), str(archive), ds, run_id, rows, malformed),
            )
            result.files.append(FileOutcome(str(source), str(archive), checksum, rows, malformed, "ingested"))
        conn.commit()
    return result
