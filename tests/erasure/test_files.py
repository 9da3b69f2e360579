"""Raw files rewritten without a data subject: every other record byte for byte, read back through
the bronze reader, malformed records carrying the key removed too, files without it untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlas.bronze.readers import Malformed, reader_for
from atlas.config import TableSpec
from atlas.erasure.files import erase_from_files, rewrite_without

SUBJECT = "C000002"


def _spec(fmt: str, **options) -> TableSpec:
    return TableSpec.model_validate({
        "table": "people", "source": {"path": "people/{{ ds }}/*", "format": fmt, "options": options},
        "schema": {"primary_key": ["customer_id"], "columns": [
            {"name": "customer_id"}, {"name": "customer_name"}, {"name": "notes"}]},
    })


def _path(path: Path):
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(f"file://{path}")


def _read(path: Path, spec: TableSpec) -> list[list[str | None]]:
    reader = reader_for(str(path), list(spec.table_schema.column_names), spec.source)
    with path.open("rb") as handle:
        return [values for item in reader.rows(handle) if not isinstance(item, Malformed) for _, values in [item]]


CSV_RECORDS = [
    b"customer_id,customer_name,notes\r\n",
    b"C000001,Anna Berg,\"two\r\nlines, quoted\"\r\n",
    b"C000002,Subject One,first\r\n",
    b"C000003,Carl Dahl,mentions C000002 in passing\r\n",
    b"C000002,Subject One,\"second, \"\"quoted\"\"\"\r\n",
    b"C000002,Subject One,too,many,fields\r\n",  # malformed, carries the key: removed
    b"C000004,Dora Eng,too,many\r\n",  # malformed, someone else: kept
    b"\r\n",
    b"C000005,\xc3\x86sa \xc3\x98rum,last\r\n",
]


def test_csv_keeps_every_other_record_byte_for_byte(tmp_path):
    spec = _spec("csv")
    path = tmp_path / "people.csv"
    path.write_bytes(b"".join(CSV_RECORDS))
    before = _read(path, spec)

    rewrite = rewrite_without(_path(path), spec, "customer_id", SUBJECT)

    assert (rewrite.removed, rewrite.kept) == (3, 4)  # the blank line is kept, not counted
    assert path.read_bytes() == b"".join(r for i, r in enumerate(CSV_RECORDS) if i not in (2, 4, 5))
    assert _read(path, spec) == [row for row in before if row[0] != SUBJECT]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["people.csv"], "no work file left"


def test_a_file_without_the_key_is_not_touched(tmp_path):
    spec = _spec("csv")
    path = tmp_path / "people.csv"
    path.write_bytes(CSV_RECORDS[0] + CSV_RECORDS[1])
    mtime = path.stat().st_mtime_ns
    rewrite = rewrite_without(_path(path), spec, "customer_id", SUBJECT)
    assert (rewrite.removed, rewrite.kept) == (0, None), "skipped by the byte search, never parsed"
    assert path.stat().st_mtime_ns == mtime


def test_the_key_elsewhere_in_a_record_is_not_the_subject(tmp_path):
    spec = _spec("csv")
    path = tmp_path / "people.csv"
    content = CSV_RECORDS[0] + CSV_RECORDS[3]
    path.write_bytes(content)
    assert rewrite_without(_path(path), spec, "customer_id", SUBJECT).removed == 0
    assert path.read_bytes() == content


def test_csv_with_its_own_delimiter_and_encoding(tmp_path):
    spec = _spec("csv", delimiter=";", encoding="latin-1")
    path = tmp_path / "people.csv"
    text = "customer_id;customer_name;notes\nC000002;S\u00f8ren;x\nC000001;\u00c5se;y\n"
    path.write_bytes(text.encode("latin-1"))
    assert rewrite_without(_path(path), spec, "customer_id", SUBJECT).removed == 1
    assert path.read_bytes() == "customer_id;customer_name;notes\nC000001;\u00c5se;y\n".encode("latin-1")


def test_json_lines(tmp_path):
    spec = _spec("json")
    path = tmp_path / "people.jsonl"
    lines = [
        json.dumps({"customer_id": "C000001", "customer_name": "Anna", "notes": "x"}) + "\n",
        json.dumps({"customer_id": SUBJECT, "customer_name": "Subject \u00d8", "notes": None}) + "\n",
        '{"customer_id": "C000002", "customer_name": broken\n',  # malformed, carries the key
        "\n",
        json.dumps({"customer_id": "C000003", "notes": "mentions C000002"}, ensure_ascii=False) + "\n",
    ]
    path.write_text("".join(lines), encoding="utf-8")
    rewrite = rewrite_without(_path(path), spec, "customer_id", SUBJECT)
    assert (rewrite.removed, rewrite.kept) == (2, 2)
    assert path.read_text(encoding="utf-8") == lines[0] + lines[3] + lines[4]


def test_parquet_keeps_schema_and_codec(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    spec = _spec("parquet")
    path = tmp_path / "people.parquet"
    table = pa.table({"customer_id": ["C000001", SUBJECT, "C000003", SUBJECT],
                      "customer_name": ["Anna", "Subject", "Carl", "Subject"], "notes": ["a", None, "c", "d"]})
    pq.write_table(table.replace_schema_metadata({b"source": b"crm"}), path, compression="zstd", row_group_size=2)

    assert rewrite_without(_path(path), spec, "customer_id", SUBJECT).removed == 2
    parquet = pq.ParquetFile(path)
    assert parquet.schema_arrow.metadata == {b"source": b"crm"}
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
    assert parquet.read().to_pydict() == {"customer_id": ["C000001", "C000003"], "customer_name": ["Anna", "Carl"],
                                          "notes": ["a", "c"]}


def test_erase_from_files_covers_the_archive_leftovers_and_the_landed_copy(tmp_path, wh_conn, monkeypatch):
    """Every archived copy (also for another date), a hidden leftover holding the key, and the
    landed files ingest recorded, below the landing root or an allowed root; a recorded path
    outside them is never touched."""
    allowed = tmp_path / "exports"
    base = _spec("csv")
    spec = base.model_copy(update={"table": "people_erasure_files", "source": base.source.model_copy(
        update={"allowed_roots": (f"file://{allowed}",)})})
    lake, landing = tmp_path / "lake", tmp_path / "landing"
    content = b"".join(CSV_RECORDS[:3])
    archived = [lake / "bronze" / spec.table / f"ingest_date={d}" / "0123456789abcdef__people.csv"
                for d in ("2026-11-01", "2026-11-02")]
    leftover = lake / "bronze" / spec.table / "ingest_date=2026-11-03" / ".0123__people.csv.partial"
    landed, outside = landing / "people" / "2026-11-01" / "people.csv", tmp_path / "elsewhere.csv"
    exported = allowed / "people.csv"
    for path in (*archived, leftover, landed, exported, outside):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    with wh_conn.cursor() as cur:
        cur.execute("DELETE FROM atlas_meta.ingested_files WHERE table_name = %s", (spec.table,))
        for source in (landed, exported, outside):
            cur.execute("INSERT INTO atlas_meta.ingested_files (table_name, source_checksum, source_file, "
                        "archive_path, logical_date, run_id, row_count) VALUES (%s, %s, %s, 'a', '2026-11-01', "
                        "'r', 2)", (spec.table, str(source), f"file://{source}"))
    wh_conn.commit()
    try:
        counts = erase_from_files(wh_conn, spec, "customer_id", SUBJECT, _path(lake), _path(landing))
    finally:
        with wh_conn.cursor() as cur:
            cur.execute("DELETE FROM atlas_meta.ingested_files WHERE table_name = %s", (spec.table,))
        wh_conn.commit()
    assert counts == {"archive_files": 2, "landing_files": 2, "file_rows": 4, "leftover_files": 1}
    expected = CSV_RECORDS[0] + CSV_RECORDS[1]
    assert [p.read_bytes() for p in (*archived, landed, exported)] == [expected] * 4
    assert not leftover.exists()
    assert outside.read_bytes() == content, "outside the landing root: never rewritten"


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_subject_that_is_not_there_changes_nothing(tmp_path, fmt):
    spec = _spec(fmt)
    path = tmp_path / "people"
    body = (CSV_RECORDS[0] + CSV_RECORDS[1]) if fmt == "csv" else b'{"customer_id": "C000001"}\n'
    path.write_bytes(body)
    assert rewrite_without(_path(path), spec, "customer_id", "C999999").removed == 0
    assert path.read_bytes() == body
