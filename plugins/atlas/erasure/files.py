"""Rewrite raw files (the lake's bronze archive, the landed copies) without a data subject's rows.

Every archived file of the table is checked, not only those bronze still points to: a file
replaced by a rerun, or archived again for a duplicate date, holds the same raw rows. A byte
search for the key skips files that cannot contain it; the rest are streamed record by record
and written back in the same format with every other record unchanged (CSV and JSON lines byte
for byte). A rewritten file must read back through the bronze reader ingest uses as the same
rows minus the subject's, or it is left unchanged and the erasure fails.

Decision: rewrite rather than crypto-shred. A key per file would shred every other customer in
the same extract, and the archive exists to reprocess exactly those rows; per-subject keys
would have to be applied inside the file, which is a rewrite again (docs/pii.md).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from atlas.config import TableSpec
from atlas.errors import AtlasErasureError

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath
    from psycopg2.extensions import connection as PgConnection

CHUNK_BYTES = 1 << 20
WORK_SUFFIX = ".erasure"  # the rewrite is written beside the file, then moved over it


@dataclass(frozen=True)
class Rewrite:
    """One file checked: records removed (0: left unchanged) and kept (None: skipped unread)."""

    url: str
    removed: int
    kept: int | None


def _as_text(value: Any) -> str | None:
    """A value as bronze stores it (same rules as the bronze readers)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    return text or None


# ------------------------------------------------------------------ byte pre-filter


def needles(spec: TableSpec, raw: str) -> list[bytes] | None:
    """Byte strings one of which a file holding ``raw`` must contain; None: no shortcut, parse it."""
    if spec.source.format == "parquet":
        return None  # compressed column chunks
    encoding = spec.source.options.get("encoding", "utf-8")
    try:
        if "a".encode(encoding) != b"a":  # not ASCII-compatible (UTF-16, ...): no byte search
            return None
        forms = {raw}
        if spec.source.format == "csv":
            quote = spec.source.options.get("quotechar", '"')
            forms.add(raw.replace(quote, quote * 2))
        else:
            forms.add(json.dumps(raw)[1:-1])  # escaped as JSON writers escape it
        return [form.encode(encoding) for form in forms]
    except (LookupError, UnicodeEncodeError):
        return None


def contains_any(path: ObjectStoragePath, wanted: list[bytes]) -> bool:
    """Whether the file's bytes contain one of ``wanted`` (streamed, chunk overlap kept)."""
    overlap = max(len(w) for w in wanted) - 1
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            window = tail + chunk
            if any(w in window for w in wanted):
                return True
            tail = window[-overlap:] if overlap else b""
    return False


# ------------------------------------------------------------------ format filters


def _text_io(handle: IO[bytes], encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(handle, encoding=encoding, newline="")


def _filter_csv(src: IO[bytes], dst: IO[bytes], spec: TableSpec, column: str, raw: str) -> tuple[int, int]:
    """Copy every CSV record's original text except the subject's; malformed records (wrong field
    count) that carry the key in any field go too."""
    options = spec.source.options
    text, out = _text_io(src, options.get("encoding", "utf-8")), _text_io(dst, options.get("encoding", "utf-8"))
    pending: list[str] = []

    def lines() -> Iterator[str]:
        for line in text:
            pending.append(line)
            yield line

    reader = csv.reader(lines(), delimiter=options.get("delimiter", ","), quotechar=options.get("quotechar", '"'))
    removed = kept = 0
    header = next(reader, None)
    if header is not None:
        names = [h.strip().lstrip("\ufeff") for h in header]
        if column not in names:
            raise AtlasErasureError(f"{spec.table}: a CSV file has no '{column}' column in its header")
        key, width = names.index(column), len(header)
        out.write("".join(pending))
        pending.clear()
        for record in reader:
            chunk = "".join(pending)
            pending.clear()
            subject = record[key] == raw if len(record) == width else raw in record
            if subject:
                removed += 1
            else:
                out.write(chunk)
                kept += bool(record)
    out.write("".join(pending))
    out.flush()
    out.detach()
    text.detach()
    return removed, kept


def _filter_json_lines(src: IO[bytes], dst: IO[bytes], spec: TableSpec, column: str, raw: str) -> tuple[int, int]:
    """Copy every JSON line except the subject's; unparseable lines holding the key as a JSON
    string go too."""
    encoding = spec.source.options.get("encoding", "utf-8")
    text, out = _text_io(src, encoding), _text_io(dst, encoding)
    quoted = json.dumps(raw)
    removed = kept = 0
    for line in text:
        if not line.strip():
            out.write(line)
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            subject = _as_text(record.get(column)) == raw
        else:
            subject = quoted in line or json.dumps(raw, ensure_ascii=False) in line
        if subject:
            removed += 1
        else:
            out.write(line)
            kept += 1
    out.flush()
    out.detach()
    text.detach()
    return removed, kept


def _filter_parquet(src: IO[bytes], dst: IO[bytes], spec: TableSpec, column: str, raw: str) -> tuple[int, int]:
    """Rewrite the Parquet file without the subject's rows: same schema (and metadata), same codec."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(src)
    names = [n.strip() for n in parquet.schema_arrow.names]
    if column not in names:
        raise AtlasErasureError(f"{spec.table}: a Parquet file has no '{column}' column")
    key = names.index(column)
    meta = parquet.metadata
    codec = meta.row_group(0).column(0).compression.lower() if meta.num_row_groups and meta.num_columns else "snappy"
    removed = kept = 0
    with pq.ParquetWriter(dst, parquet.schema_arrow, compression="none" if codec == "uncompressed" else codec) as out:
        for batch in parquet.iter_batches(batch_size=10_000):
            keep = [_as_text(v) != raw for v in batch.column(key).to_pylist()]
            chosen = batch.filter(pa.array(keep, pa.bool_()))
            removed += batch.num_rows - chosen.num_rows
            kept += chosen.num_rows
            out.write_batch(chosen)
    return removed, kept


FILTERS: dict[str, Callable[[IO[bytes], IO[bytes], TableSpec, str, str], tuple[int, int]]] = {
    "csv": _filter_csv, "json": _filter_json_lines, "parquet": _filter_parquet,
}


# ------------------------------------------------------------------ rewrite one file


def _read_back(path: ObjectStoragePath, spec: TableSpec, column: str, raw: str) -> tuple[int, int]:
    """(rows, subject rows) as the bronze reader sees the file."""
    from atlas.bronze.readers import Malformed, reader_for

    columns = list(spec.table_schema.column_names)
    reader = reader_for(str(path), columns, spec.source)
    key = columns.index(column)
    rows = subject = 0
    with path.open("rb") as handle:
        for item in reader.rows(handle):
            if isinstance(item, Malformed):
                continue
            rows += 1
            subject += item[1][key] == raw
    return rows, subject


def rewrite_without(path: ObjectStoragePath, spec: TableSpec, column: str, raw: str) -> Rewrite:
    """Remove the subject's records from one raw file in place (through a work copy beside it)."""
    from atlas.storage import url_of

    url = url_of(path)
    wanted = needles(spec, raw)
    if wanted is not None and not contains_any(path, wanted):
        return Rewrite(url, 0, None)
    work = path.parent / f".{path.name}{WORK_SUFFIX}"
    try:
        with path.open("rb") as src, work.open("wb") as dst:
            removed, kept = FILTERS[spec.source.format](src, dst, spec, column, raw)
        if removed == 0:
            work.unlink()
            return Rewrite(url, 0, kept)
        before, after = _read_back(path, spec, column, raw), _read_back(work, spec, column, raw)
        if after[1] or after[0] != before[0] - before[1]:
            raise AtlasErasureError(
                f"{url}: the rewrite does not read back as the file without the subject's rows "
                f"({before[0]} rows, {before[1]} of the subject before; {after[0]} rows, {after[1]} after); "
                "the file is unchanged")
        work.replace(path)
    except UnicodeDecodeError as exc:
        raise AtlasErasureError(f"{url}: bytes are not valid {exc.encoding}; the file is unchanged") from None
    finally:
        if work.exists():
            work.unlink()
    return Rewrite(url, removed, kept)


# ------------------------------------------------------------------ the files of a table


def _plain_url(url: str) -> str:
    """A URL without the connection id ObjectStoragePath puts in its string (``s3://conn@bucket``)."""
    return re.sub(r"^([a-z0-9]+://)[^/@]*@", r"\1", url)


def archived_files(spec: TableSpec, lake_root: ObjectStoragePath) -> list[ObjectStoragePath]:
    """Every file under ``bronze/<table>/`` in the lake (one listing, also on S3)."""
    base = lake_root / "bronze" / spec.table
    if not base.exists():
        return []
    prefix = base.path.rstrip("/") + "/"
    return [base / found[len(prefix):] for found in sorted(base.fs.find(base.path)) if found.startswith(prefix)]


def landed_files(conn: PgConnection, spec: TableSpec, landing_root: ObjectStoragePath) -> list[ObjectStoragePath]:
    """The landed files ingested into the table that are still there: only below the landing
    root or one of the table's ``source.allowed_roots`` (where a run may have read them)."""
    from airflow.sdk import ObjectStoragePath

    from atlas import settings, sources
    from atlas.storage import url_of

    landing = sources.parse_root(url_of(landing_root))
    extra = [sources.parse_root(url) for url in spec.source.allowed_roots]
    with conn.cursor() as cur:
        cur.execute("SELECT DISTINCT source_file FROM atlas_meta.ingested_files WHERE table_name = %s "
                    "ORDER BY 1", (spec.table,))
        urls = [_plain_url(u) for (u,) in cur.fetchall()]
    conn.rollback()
    found = []
    for url in urls:
        try:
            target = sources.parse_root(url)
        except ValueError:
            continue
        if landing.contains(target):
            path = landing_root / target.path[len(landing.path):].lstrip("/")
        elif any(root.contains(target) for root in extra):
            path = ObjectStoragePath(url, conn_id=settings.storage_conn_id() if target.scheme == "s3" else None)
        else:
            continue
        if path.is_file():
            found.append(path)
    return found


def erase_from_files(conn: PgConnection, spec: TableSpec, column: str, raw: str, lake_root: ObjectStoragePath,
                     landing_root: ObjectStoragePath) -> dict[str, int]:
    """Rewrite the table's archived and landed files without the subject; counts per kind.

    Hidden leftovers in the archive (an interrupted copy or rewrite) that hold the key are
    deleted: nothing refers to them.
    """
    counts = {"archive_files": 0, "landing_files": 0, "file_rows": 0, "leftover_files": 0}
    wanted = needles(spec, raw)
    for kind, paths in (("archive_files", archived_files(spec, lake_root)),
                        ("landing_files", landed_files(conn, spec, landing_root))):
        for path in paths:
            if path.name.startswith("."):
                if wanted is None or contains_any(path, wanted):
                    path.unlink()
                    counts["leftover_files"] += 1
                continue
            rewrite = rewrite_without(path, spec, column, raw)
            if rewrite.removed:
                counts[kind] += 1
                counts["file_rows"] += rewrite.removed
    return counts
