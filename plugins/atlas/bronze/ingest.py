"""Ingest landed files into ``bronze.<table>`` for one logical date, atomically and idempotently."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from atlas import storage
from atlas.bronze.readers import Batch, Malformed, ReadStats, reader_for
from atlas.config import TableSpec
from atlas.errors import AtlasInputError, AtlasReconciliationError
from atlas.warehouse.bulk_copy import copy_text_stream, text_field
from atlas.warehouse.tables import ensure_tables

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)


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


QUARANTINE_COLUMNS = ("_atlas_stage", "_atlas_rule", "_atlas_reason", "_atlas_run_id", "_atlas_logical_date",
                      "_atlas_source_file", "_atlas_row_number")  # the order of the spooled quarantine lines
META_COLUMNS = ("_atlas_row_number", "_atlas_run_id", "_atlas_logical_date", "_atlas_source_file",
                "_atlas_source_checksum")


@dataclass
class _Problems:
    """Malformed rows of one file by rule: count, first line and reason (no values)."""

    seen: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, items: list[Malformed]) -> None:
        for item in items:
            entry = self.seen.setdefault(item.rule, [0, item.row_number, item.reason])
            entry[0] += 1

    def describe(self, limit: int = 5) -> str:
        ranked = sorted(self.seen.items(), key=lambda kv: -kv[1][0])
        parts = [f"{count} x {rule} (first at line {line}: {reason})" for rule, (count, line, reason) in ranked[:limit]]
        if len(ranked) > limit:
            parts.append(f"{len(ranked) - limit} more rule(s)")
        return "; ".join(parts)


def _too_broken(file: str, records: int, malformed: int, ratio: float, problems: _Problems) -> AtlasInputError:
    total = records + malformed
    return AtlasInputError(
        f"{file}: {malformed:,} of {total:,} records ({malformed / total:.1%}) are malformed, more than "
        f"source.max_malformed_ratio ({ratio:g}) allows; nothing from the file was loaded. {problems.describe()}")


def _load_file(cur: Any, spec: TableSpec, source: ObjectStoragePath, checksum: str,
               run_id: str, ds: str) -> ReadStats:
    """COPY one file's rows into bronze (one streamed COPY) and its malformed rows into quarantine;
    fail the file if more of it is malformed than the table allows."""
    reader = reader_for(str(source), spec.table_schema.column_names, spec.source)
    where = "".join(f"\t{text_field(v)}" for v in (run_id, ds, str(source)))  # quarantine: run, date, file
    suffix = f"{where}\t{text_field(checksum)}"  # bronze: run, date, file, checksum
    ratio = spec.source.max_malformed_ratio
    problems = _Problems()
    with source.open("rb") as handle, tempfile.SpooledTemporaryFile(1 << 23, mode="w+") as rejected:
        batches = reader.batches(handle, suffix)

        def rows(batch: Batch | None) -> Iterator[list[str]]:
            while batch is not None:
                for item in batch.malformed:
                    rejected.write(f"bronze\t{text_field(item.rule)}\t{text_field(item.reason)}{where}"
                                   f"\t{item.row_number}\n")
                problems.add(batch.malformed)
                if ratio == 0 and batch.malformed:
                    raise _too_broken(str(source), reader.stats.records, reader.stats.malformed, ratio, problems)
                yield batch.rows
                batch = next(batches, None)

        first = next(batches, None)
        if first is not None:
            copy_text_stream(cur, f"bronze.{spec.table}", [*first.columns, *META_COLUMNS], rows(first))
        rejected.seek(0)
        cur.copy_expert(f"COPY quarantine.{spec.table} ({', '.join(QUARANTINE_COLUMNS)}) FROM STDIN", rejected)
    stats = reader.stats
    if stats.malformed and stats.malformed > ratio * (stats.records + stats.malformed):
        raise _too_broken(str(source), stats.records, stats.malformed, ratio, problems)
    if stats.lines != stats.accounted:
        raise AtlasReconciliationError(
            f"{source}: read {stats.lines} physical lines but accounted for {stats.accounted} (header "
            f"{stats.header_lines}, blank {stats.blank_lines}, records {stats.record_lines}, malformed "
            f"{stats.malformed_lines})")
    return stats


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
            result.files.append(FileOutcome(str(source), str(archive), checksum, rows, malformed, "ingested"))
        conn.commit()
    return result
