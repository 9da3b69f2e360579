"""Ingest landed files into ``bronze.<table>`` for one logical date, atomically and idempotently."""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import IO, TYPE_CHECKING, Any

from atlas import storage
from atlas.bronze.readers import Batch, ReadStats, reader_for
from atlas.config import TableSpec
from atlas.errors import AtlasInputError, AtlasReconciliationError
from atlas.schema import BRONZE_META, QUARANTINE_META, names
from atlas.warehouse.bulk_copy import copy_text_stream, text_field
from atlas.warehouse.tables import ensure_tables

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath
    from psycopg2.extensions import connection as PgConnection
    from psycopg2.extensions import cursor as PgCursor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileOutcome:
    source: str
    archive: str
    checksum: str
    rows: int
    malformed: int
    status: str  # ingested | duplicate_file
    lines: int = 0  # physical lines read: header + blank + lines of rows + quarantined lines


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
                       "malformed": f.malformed, "lines": f.lines, "status": f.status} for f in self.files],
        }


def _already_ingested(cur: PgCursor, table: str, checksum: str, ds: str) -> str | None:
    """The other logical date this exact file was ingested for, if any."""
    cur.execute(
        "SELECT logical_date::text FROM atlas_meta.ingested_files "
        "WHERE table_name = %s AND source_checksum = %s AND logical_date <> %s",
        (table, checksum, ds),
    )
    row = cur.fetchone()
    return row[0] if row else None


#: The order of the spooled quarantine lines: quarantine's written metadata as atlas.schema states it.
QUARANTINE_COLUMNS = names(QUARANTINE_META, written=True)
#: Bronze's written metadata in the order each line carries it: the row number first, then run,
#: date, file and checksum.
META_COLUMNS = ("_atlas_row_number", *(n for n in names(BRONZE_META, written=True) if n != "_atlas_row_number"))


class _FileLoad:
    """One file's load: good rows streamed to bronze, malformed rows spooled for quarantine (a bounded
    buffer that spills to a temporary file), counts of problems by rule for the error message."""

    def __init__(self, spec: TableSpec, source: ObjectStoragePath, checksum: str, run_id: str, ds: str) -> None:
        self.spec, self.file = spec, str(source)
        self.reader = reader_for(self.file, spec.table_schema.column_names, spec.source)
        self.where = "".join(f"\t{text_field(v)}" for v in (run_id, ds, self.file))  # run, date, file
        self.suffix = f"{self.where}\t{text_field(checksum)}"  # bronze also keeps the checksum
        self.rejected: IO[str] = io.StringIO()  # replaced by a spool while loading
        self.problems: dict[str, list[Any]] = {}  # rule -> [count, first line, reason]

    def _good_rows(self, batches: Iterator[Batch], first: Batch) -> Iterator[list[str]]:
        """Each batch's good rows; its malformed rows go to the spool (and fail fast at ratio 0)."""
        for batch in chain([first], batches):
            for item in batch.malformed:
                self.rejected.write(f"bronze\t{text_field(item.rule)}\t{text_field(item.reason)}{self.where}"
                                    f"\t{item.row_number}\n")
                entry = self.problems.setdefault(item.rule, [0, item.row_number, item.reason])
                entry[0] += 1
            if batch.malformed and self.spec.source.max_malformed_ratio == 0:
                raise self._too_broken()
            yield batch.rows

    def load(self, cur: PgCursor, handle: Any) -> ReadStats:
        table = self.spec.table
        with tempfile.SpooledTemporaryFile(1 << 23, mode="w+") as self.rejected:
            batches = self.reader.batches(handle, self.suffix)
            first = next(batches, None)
            if first is not None:
                copy_text_stream(cur, f"bronze.{table}", [*first.columns, *META_COLUMNS],
                                 self._good_rows(batches, first))
            self.rejected.seek(0)
            cur.copy_expert(f"COPY quarantine.{table} ({', '.join(QUARANTINE_COLUMNS)}) FROM STDIN", self.rejected)
        stats = self.reader.stats
        if stats.malformed > self.spec.source.max_malformed_ratio * (stats.records + stats.malformed):
            raise self._too_broken()
        if stats.lines != stats.accounted:
            raise AtlasReconciliationError(
                f"{self.file}: read {stats.lines} physical lines but accounted for {stats.accounted} (header "
                f"{stats.header_lines}, blank {stats.blank_lines}, records {stats.record_lines}, malformed "
                f"{stats.malformed_lines})")
        return stats

    def _too_broken(self) -> AtlasInputError:
        """The file fails: counts per rule with the first line and the reason, never a value."""
        stats, ratio = self.reader.stats, self.spec.source.max_malformed_ratio
        total = stats.records + stats.malformed
        ranked = sorted(self.problems.items(), key=lambda kv: -kv[1][0])
        parts = [f"{count} x {rule} (first at line {line}: {reason})" for rule, (count, line, reason) in ranked[:5]]
        if len(ranked) > 5:
            parts.append(f"{len(ranked) - 5} more rule(s)")
        return AtlasInputError(
            f"{self.file}: {stats.malformed:,} of {total:,} records ({stats.malformed / total:.1%}) are malformed, "
            f"more than source.max_malformed_ratio ({ratio:g}) allows; nothing from the file was loaded. "
            + "; ".join(parts))


def _load_file(cur: PgCursor, spec: TableSpec, source: ObjectStoragePath, checksum: str,
               run_id: str, ds: str) -> ReadStats:
    """COPY one file's rows into bronze (one streamed COPY) and its malformed rows into quarantine;
    fail the file if more of it is malformed than the table allows."""
    with source.open("rb") as handle:
        return _FileLoad(spec, source, checksum, run_id, ds).load(cur, handle)


def ingest(conn: PgConnection, spec: TableSpec, sources: Sequence[ObjectStoragePath], run_id: str,
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
            stats = _load_file(cur, spec, source, checksum, run_id, ds)
            rows, malformed = stats.records, stats.malformed
            log.info("%s: %d physical lines = %d header + %d blank + %d in %d records + %d quarantined", source,
                     stats.lines, stats.header_lines, stats.blank_lines, stats.record_lines, rows, malformed)
            cur.execute(
                "INSERT INTO atlas_meta.ingested_files (table_name, source_checksum, source_file, "
                "archive_path, logical_date, run_id, row_count, rejected_rows) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (spec.table, checksum, str(source), str(archive), ds, run_id, rows, malformed),
            )
            result.files.append(FileOutcome(str(source), str(archive), checksum, rows, malformed, "ingested",
                                            stats.lines))
        conn.commit()
    return result
