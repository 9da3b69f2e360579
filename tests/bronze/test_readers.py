"""The file readers on their own (no database): physical line numbers, quarantined rows with rule and
reason, file-level errors naming the file and line, and every physical line accounted for."""

from __future__ import annotations

import codecs
import io
import re

import pytest

from atlas.bronze.readers import CsvReader, ReadStats, reader_for
from atlas.config import SourceSpec
from atlas.errors import AtlasInputError

COLUMNS = ["id", "name", "notes"]
_UNESCAPE = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def _fields(line: str) -> list[str | None]:
    """A COPY text line back into values (None for NULL), without the suffix."""
    values = [re.sub(r"\\[\\tnr]", lambda m: _UNESCAPE[m.group(0)], f) for f in line.split("\t")]
    return [v or None for v in values]


def read(data: bytes, columns: list[str] = COLUMNS, fmt: str = "csv", block_bytes: int | None = None,
         **source: object) -> tuple[dict[int, list[str | None]], dict[int, tuple[str, str]], ReadStats]:
    """Rows by physical line (values in config order), malformed rows by line, stats (reconciled)."""
    reader = reader_for("landing/t.csv", columns, SourceSpec(path="t/*", format=fmt, **source))
    if block_bytes:
        reader.block_bytes = block_bytes
    rows: dict[int, list[str | None]] = {}
    bad: dict[int, tuple[str, str]] = {}
    for batch in reader.batches(io.BytesIO(data), "\tSUFFIX"):
        for line in batch.rows:
            *values, number, suffix = _fields(line)
            assert suffix == "SUFFIX"
            by_name = dict(zip(batch.columns, values, strict=True))
            rows[int(number)] = [by_name[c] for c in columns]
        bad.update({m.row_number: (m.rule, m.reason) for m in batch.malformed})
    stats = reader.stats
    assert stats.lines == stats.accounted, "every physical line is header, blank, record or quarantined"
    assert (stats.records, stats.malformed) == (len(rows), len(bad))
    return rows, bad, stats


def fails(data: bytes, **source: object) -> str:
    with pytest.raises(AtlasInputError) as info:
        read(data, **source)
    message = str(info.value)
    assert message.startswith("landing/t.csv: "), "names the file"
    return message


# ----------------------------------------------------------------------------- everyday shapes


def test_row_numbers_are_physical_lines():
    rows, bad, stats = read(b"id,name,notes\n1,a,x\n\n2,b,\n3,c\n4,d,z")
    assert sorted(rows) == [2, 4, 6] and rows[4] == ["2", "b", None]
    assert bad == {5: ("malformed_row", "expected 3 fields, found 2")}
    assert (stats.lines, stats.blank_lines) == (6, 1)


def test_utf8_bom_and_crlf_line_endings():
    rows, bad, _ = read(codecs.BOM_UTF8 + b"id,name,notes\r\n1,a,x\r\n2,b,y\r\n")
    assert rows == {2: ["1", "a", "x"], 3: ["2", "b", "y"]} and not bad


def test_excel_sep_line_sets_the_delimiter():
    rows, _, stats = read(b"sep=;\nid;name;notes\n1;a;x,y\n")
    assert rows == {3: ["1", "a", "x,y"]} and stats.header_lines == 2


def test_header_in_another_order_and_ignored_extra_columns():
    rows, _, _ = read(b"notes,id,name\nx,1,a\n")
    assert rows == {2: ["1", "a", "x"]}
    rows, _, _ = read(b"notes,extra,id,name\nx,9,1,a\n", options={"ignore_extra_columns": True})
    assert rows == {2: ["1", "a", "x"]}


def test_backslashes_tabs_and_quotes_survive():
    rows, _, _ = read(b'id,name,notes\n1,a\\b,"x\ty ""q"""\n')
    assert rows == {2: ["1", "a\\b", 'x\ty "q"']}


def test_latin1_when_configured():
    rows, _, _ = read(b"id,name,notes\n1,J\xf8rgen,x\n", options={"encoding": "latin-1"})
    assert rows[2][1] == "Jørgen"


def test_utf16_when_configured():
    rows, _, _ = read("id,name,notes\n1,Åse,x\n".encode("utf-16"), options={"encoding": "utf-16"})
    assert rows == {2: ["1", "Åse", "x"]}


# ----------------------------------------------------------------------------- file-level errors


def test_wrong_delimiter_suggests_the_one_that_works():
    message = fails(b"id;name;notes\n1;a;x\n")
    assert "line 1" in message and "1 column" in message and "';'" in message
    assert "source.options.delimiter" in message


def test_missing_column_names_it():
    message = fails(b"id,name\n1,a\n")
    assert "missing configured column(s) ['notes']" in message


def test_duplicate_column_names_are_an_error():
    message = fails(b"id,name,notes,name\n1,a,x,b\n")
    assert "'name' twice (columns 2 and 4)" in message


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "file is empty"),
    (b"\n\n\n", "file is empty"),
    ("id,name,notes\n1,a,x\n".encode("utf-16"), "UTF-16 encoded"),
    ("id,name,notes\n".encode("utf-32"), "UTF-32 encoded"),
    ("id,name,notes\n".encode("utf-16-le"), "NUL bytes"),
    (b"PK\x03\x04\x14\x00\x06\x00", "ZIP archive"),
    (b"\x1f\x8b\x08\x00", "gzip-compressed"),
    (bytes(range(256)) * 8, "NUL bytes"),
    (b"\xff\xd8\xff\xe0 JFIF,x\n", "line 1 (the header): bytes are not valid utf-8"),
    (b"id,name,notes\r1,a,x\r", "old Mac line endings"),
])
def test_files_that_are_not_csv(data, expected):
    assert expected in fails(data)


def test_unknown_encoding_is_named():
    assert "'no-such-codec' is not a known encoding" in fails(b"id,name,notes\n", options={"encoding": "no-such-codec"})


# ----------------------------------------------------------------------------- row-level problems


def test_nul_byte_quarantines_the_row_naming_the_column():
    rows, bad, _ = read(b"id,name,notes\n1,a\x00b,x\n2,b,y\n")
    assert list(rows) == [3]
    assert bad[2][0] == "name.nul_byte" and "NUL byte" in bad[2][1]


def test_undecodable_line_is_quarantined_and_its_neighbours_load():
    rows, bad, _ = read(b"id,name,notes\n1,a,x\n2,J\xf8rgen,y\n3,c,z\n")
    assert list(rows) == [2, 4]
    assert bad[3][0] == "encoding" and "at byte 4 of the line" in bad[3][1]


def test_oversize_field_is_quarantined_naming_the_column():
    rows, bad, _ = read(b"id,name,notes\n1,a," + b"x" * 5000 + b"\n2,b,y\n", max_field_size=1000)
    assert list(rows) == [3]
    assert bad[2][0] == "notes.field_too_long" and "5,000 characters" in bad[2][1]


def test_line_too_long_to_hold_is_skipped_unread():
    reader = CsvReader("t.csv", COLUMNS, SourceSpec(path="t/*", max_field_size=10))
    limit = reader.max_line_bytes
    data = b"id,name,notes\n1,a,x\n2,b," + b"y" * (limit + 5 * 4096) + b"\n3,c,z\n"
    rows, bad, _ = read(data, block_bytes=4096, max_field_size=10)
    assert list(rows) == [2, 4]
    assert bad[3][0] == "line_too_long"


def test_repeated_header_is_recognised():
    data = b"id,name,notes\n1,a,x\nid,name,notes\n2,b,y\n" + codecs.BOM_UTF8 + b"id,name,notes\n3,c,z\n"
    rows, bad, _ = read(data)
    assert list(rows) == [2, 4, 6]
    assert {line: rule for line, (rule, _) in bad.items()} == {3: "repeated_header", 5: "repeated_header"}


def test_unclosed_quote_quarantines_one_line_and_reading_resumes():
    body = "".join(f"{i},n{i},ok\n" for i in range(2, 50))
    data = b"id,name,notes\n1,a,\"never closed\n" + body.encode() + b'50,z,"closed"\n'
    rows, bad, _ = read(data)
    assert bad == {2: ("multiline_record", bad[2][1])}
    assert "source.multiline" in bad[2][1]
    assert len(rows) == 49 and rows[3] == ["2", "n2", "ok"], "the lines after it load as their own rows"


def test_quote_open_on_the_last_line():
    rows, bad, _ = read(b'id,name,notes\n1,a,x\n2,b,"y\n')
    assert list(rows) == [2] and bad[3][0] == "unclosed_quote"


def test_multiline_fields_when_allowed_also_across_blocks():
    data = b'id,name,notes\n1,a,"first\nsecond"\n2,b,y\n3,c,"p\r\nq\nr"\n4,d,w\n'
    for block_bytes in (None, 16):
        rows, bad, stats = read(data, multiline=True, block_bytes=block_bytes)
        assert rows == {2: ["1", "a", "first\nsecond"], 4: ["2", "b", "y"], 5: ["3", "c", "p\nq\nr"],
                        8: ["4", "d", "w"]} and not bad
        assert stats.record_lines == 7


def test_multiline_unclosed_quote_runs_to_the_end_then_recovers():
    rows, bad, _ = read(b'id,name,notes\n1,a,"open\n2,b,y\n3,c,z\n', multiline=True, block_bytes=8)
    assert list(rows) == [3, 4] and bad[2][0] == "unclosed_quote"


def test_multiline_record_with_wrong_width_gives_back_its_lines():
    rows, bad, _ = read(b'id,name,notes\n1,a,"x\n2,b,y\n3,c,z",extra\n4,d,w\n', multiline=True)
    wrong_width = ("malformed_row", "expected 3 fields, found 4")
    assert bad == {2: wrong_width, 4: wrong_width}
    assert rows == {3: ["2", "b", "y"], 5: ["4", "d", "w"]}


def test_block_boundaries_do_not_change_the_result():
    lines = [b"id,name,notes"] + [f'{i},"n, {i}",note {i}'.encode() for i in range(1, 300)]
    lines[50] = b"50,broken"
    lines[120] = b"120,\xffbad,x"
    data = b"\r\n".join(lines) + b"\r\n"
    expected = read(data)
    for block_bytes in (7, 64, 1000):
        assert read(data, block_bytes=block_bytes)[:2] == expected[:2]
    assert len(expected[0]) == 297 and sorted(expected[1]) == [51, 121]


# ----------------------------------------------------------------------------- JSON lines and Parquet


def test_json_lines_problems_by_line_and_column():
    data = (b'{"id": "1", "name": "a", "notes": null}\n\nnot json\n{"id": "2", "name": "b\\u0000", "notes": "x"}\n'
            b'[1]\n{"id": 3, "name": true, "notes": "z", "other": 1}\n'
            b'{"id": "7", "name": "\\ud800", "notes": "\\u00e9"}\n')
    rows, bad, _ = read(data, fmt="json")
    assert rows == {1: ["1", "a", None]}
    assert {k: v[0] for k, v in bad.items()} == {3: "invalid_json", 4: "name.nul_byte", 5: "invalid_json",
                                                 6: "unexpected_fields", 7: "name.invalid_unicode"}


def test_json_array_file_is_named():
    with pytest.raises(AtlasInputError, match="JSON array"):
        read(b'[\n{"id": "1"}\n]\n', fmt="json")


def test_parquet_rows_and_nul(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": [1, 2], "name": ["a", "b\x00"], "notes": [None, "x"]}), path)
    rows, bad, _ = read(path.read_bytes(), fmt="parquet")
    assert rows == {1: ["1", "a", None]} and bad[2][0] == "name.nul_byte"
    with pytest.raises(AtlasInputError, match="not a readable Parquet file"):
        read(b"id,name,notes\n", fmt="parquet")


def test_unnamed_header_columns_are_named_by_position():
    assert "header column(s) [4] have no name" in fails(b"id,name,notes,\n1,a,x,\n")


def test_nul_in_a_multiline_record_carried_across_blocks():
    data = b'id,name,notes\n1,a,"first\x00\nsecond"\n2,b,y\n'
    for block_bytes in (None, 8):
        rows, bad, _ = read(data, multiline=True, block_bytes=block_bytes)
        assert list(rows) == [4] and bad[2][0] == "notes.nul_byte"
