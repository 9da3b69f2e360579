"""Stream a landed file as rows ready for COPY, one reader class per format.

A reader yields :class:`Batch` es: good rows as COPY text-format lines (the batch's ``columns``,
then the row's physical line number, then a caller-given suffix of constant fields), and
:class:`Malformed` rows with a rule and a reason (never a value). Row numbers are the file's
physical line numbers (for Parquet: the row's position). Problems with the file as a whole raise
:class:`AtlasInputError` naming the file, line and column where known. ``stats`` accounts for
every physical line read, so lines and records reconcile.

Memory stays bounded: text files are read in blocks of lines (:mod:`atlas.bronze.lines`).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, Any, ClassVar

from atlas.bronze.header import Header, parse_header, sep_line
from atlas.bronze.lines import BLOCK_BYTES, LineBlock, LineProblem, line_blocks
from atlas.config import SourceSpec
from atlas.errors import AtlasInputError
from atlas.warehouse.bulk_copy import text_field

ROW_NUMBER = "_atlas_row_number"
TAB = "\t"
_SURROGATE = re.compile("[\ud800-\udfff]")


Row = tuple[int, list[str | None]]


@dataclass(frozen=True)
class Malformed:
    row_number: int
    reason: str
    rule: str = "malformed_row"


@dataclass
class Batch:
    columns: Sequence[str]  # table columns in the order of each row's fields (then the row number)
    rows: list[str] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)


@dataclass
class ReadStats:
    """Every physical line read is a header line, blank, part of a good record, or quarantined."""

    lines: int = 0
    header_lines: int = 0
    blank_lines: int = 0
    records: int = 0
    record_lines: int = 0
    malformed: int = 0
    malformed_lines: int = 0

    @property
    def accounted(self) -> int:
        return self.header_lines + self.blank_lines + self.record_lines + self.malformed_lines


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    return text if text != "" else None


_UNESCAPE = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
_ESCAPED = re.compile(r"\\[\\tnr]")


def _from_line(line: str) -> list[str | None]:
    """A COPY text line back into values (the inverse of :func:`_line`, without a suffix)."""
    return [_ESCAPED.sub(lambda m: _UNESCAPE[m.group(0)], f) if f else None for f in line.split("\t")]


def _line(values: Sequence[str | None], number: int, suffix: str) -> str:
    """One COPY text line: values escaped (None and "" are NULL), the row number, the suffix."""
    fields = "\t".join(text_field(v) if v else "" for v in values)
    return f"{fields}\t{number}{suffix}"


class Reader:
    """Base: subclasses implement ``batches`` for one file format."""

    formats: ClassVar[tuple[str, ...]] = ()
    block_bytes: ClassVar[int] = BLOCK_BYTES

    def __init__(self, name: str, columns: Sequence[str], source: SourceSpec) -> None:
        self.name, self.columns, self.source = name, list(columns), source
        self.options = dict(source.options)
        self.stats = ReadStats()

    @property
    def max_line_bytes(self) -> int:
        """Longest physical line held in memory: a few fields at the field limit."""
        return 8 * self.source.max_field_size + (1 << 20)

    def batches(self, handle: IO[bytes], suffix: str = "") -> Iterator[Batch]:
        raise NotImplementedError

    def rows(self, handle: IO[bytes]) -> Iterator[Row | Malformed]:
        """The same file row by row: ``(row_number, values)`` in config order, or :class:`Malformed`
        (for checks that read a file back as bronze sees it; loading uses :meth:`batches`)."""
        for batch in self.batches(handle):
            order = [list(batch.columns).index(c) for c in self.columns]
            for line in batch.rows:
                *values, number = _from_line(line)
                yield int(number or 0), [values[i] for i in order]
            yield from batch.malformed

    def _value_problem(self, columns: Sequence[str], values: Sequence[str | None]) -> Malformed | None:
        """A NUL byte (PostgreSQL text cannot hold it) or an oversize value, by column; row number 0."""
        limit = self.source.max_field_size
        for column, value in zip(columns, values, strict=True):
            if not value:
                continue
            if "\x00" in value:
                return Malformed(0, f"{column}: contains a NUL byte (0x00), which PostgreSQL text cannot hold",
                                 f"{column}.nul_byte")
            if len(value) > limit:
                return Malformed(0, f"{column}: value of {len(value):,} characters is longer than "
                                    f"source.max_field_size ({limit:,})", f"{column}.field_too_long")
        return None


# ----------------------------------------------------------------------------------- CSV


_CSV_ERRORS = {
    "new-line character seen in unquoted field": "a carriage return (CR) inside an unquoted field",
    "field larger than field limit": "a field longer than the field limit",
}


class CsvReader(Reader):
    """Delimited text with a header line: UTF-8 byte order mark and Excel's ``sep=`` line accepted.

    Each record is one physical line unless ``source.multiline`` allows quoted line breaks. A quote
    left open at the end of a line (or, with multiline, at the end of the file) quarantines that
    line only; reading resumes on the next line, so an unclosed quote never swallows other rows.
    """

    formats = ("csv",)

    def __init__(self, name: str, columns: Sequence[str], source: SourceSpec) -> None:
        super().__init__(name, columns, source)
        self.delimiter = str(self.options.get("delimiter", ","))
        self.quotechar = str(self.options.get("quotechar", '"'))
        self.header: Header | None = None
        _raise_csv_field_limit(self.max_line_bytes)

    # -------------------------------------------------------------- header

    def _read_header(self, block: LineBlock) -> int:
        """Consume leading blank lines, a ``sep=`` line and the header; how many lines were used."""
        index, from_sep = 0, False
        lines = block.lines
        while index < len(lines) and not lines[index].strip() and block.first + index not in block.problems:
            index += 1
        self.stats.blank_lines += index
        if index == len(lines):
            return index
        number = block.first + index
        if index == 0 and (found := sep_line(lines[0])) is not None:
            self.delimiter, from_sep = found, True
            self.stats.header_lines += 1
            index += 1
            if index == len(lines):
                return index
            number += 1
        if number in block.problems:
            problem = block.problems[number]
            raise AtlasInputError(f"{self.name}: line {number} (the header): {problem.reason}; the file may be "
                                  "binary or in another encoding (set source.options.encoding)")
        self.header = parse_header(self.name, lines[index], number, self.columns, self.delimiter, self.quotechar,
                                   bool(self.options.get("ignore_extra_columns", False)), from_sep)
        self.stats.header_lines += 1
        return index + 1

    def _header_firsts(self) -> frozenset[str]:
        assert self.header is not None
        first = self.header.names[0]
        return frozenset({first, f" {first}", f"{first} ", f"\ufeff{first}"})

    def _is_header(self, record: list[str]) -> bool:
        assert self.header is not None
        return [f.strip().lstrip("\ufeff") for f in record] == list(self.header.names)

    # -------------------------------------------------------------- records

    def batches(self, handle: IO[bytes], suffix: str = "") -> Iterator[Batch]:
        carry: list[str] = []
        carry_first, carry_problems = 0, {}
        blocks = line_blocks(handle, self.name, str(self.options.get("encoding", "utf-8")), self.max_line_bytes,
                             block_bytes=self.block_bytes)
        for block in blocks:
            self.stats.lines += len(block.lines)
            start = 0
            if self.header is None:
                start = self._read_header(block)
                if self.header is None:
                    continue
                del block.lines[:start]
                block.first += start
            if carry:  # a multi-line record still open at the end of the last block
                block.lines[:0] = carry
                block.problems.update(carry_problems)
                block.first = carry_first
                block.special = True
                block.has_nul = block.has_nul or any("\x00" in line for line in carry)
                block.longest = max(block.longest, *map(len, carry))
            batch = self._batch()
            keep = self._parse(block, batch, suffix, final=False)
            carry, carry_first = block.lines[keep:], block.first + keep
            carry_problems = {n: p for n, p in block.problems.items() if n >= carry_first}
            yield batch
        if self.header is None:
            raise AtlasInputError(f"{self.name}: file is empty (no header row)")
        if carry:
            batch = self._batch()
            self._parse(LineBlock(carry_first, carry, carry_problems, special=True,
                                  has_nul=any("\x00" in line for line in carry),
                                  longest=max(map(len, carry))), batch, suffix, final=True)
            yield batch

    def _batch(self) -> Batch:
        assert self.header is not None
        in_file_order = sorted(self.header.positions) == list(range(self.header.width))
        columns = [self.header.names[p] for p in range(self.header.width)] if in_file_order else self.columns
        return Batch(columns)

    def _parse(self, block: LineBlock, batch: Batch, suffix: str, final: bool) -> int:
        """Parse ``block`` into ``batch``; returns the index of the first line to carry to the next block."""
        header = self.header
        assert header is not None
        lines, first, problems = block.lines, block.first, block.problems
        count = len(lines)
        lines.append("")  # sentinel: a quote left open on the last line swallows it
        width, stats, multiline = header.width, self.stats, self.source.multiline
        project = None if batch.columns is not self.columns else header.positions
        escape = block.special
        checks = block.has_nul or block.longest > self.source.max_field_size
        firsts = self._header_firsts()
        rows, bad = batch.rows, batch.malformed
        offset = 0

        def reject(index: int, reason: str, rule: str, lines: int = 1) -> None:
            bad.append(Malformed(first + index, reason, rule))
            stats.malformed += 1
            stats.malformed_lines += lines

        try:
            while offset < count:
                reader = csv.reader(lines if offset == 0 else islice(lines, offset, None),
                                    delimiter=header.delimiter, quotechar=self.quotechar)
                prev, restart = 0, None
                try:
                    for record in reader:
                        end = reader.line_num
                        index, span = offset + prev, end - prev
                        prev = end
                        if index >= count:
                            break
                        if span > 1 or problems:
                            if index + span > count and multiline and not final and not self._too_big(lines, index):
                                return index  # still open: carried into the next block
                            problem = self._span_problem(first, index, span, count, problems, multiline)
                            if problem is not None:  # quarantine the first line, read on from the next
                                reject(index, problem.reason, problem.rule)
                                if span > 1:
                                    restart = index + 1
                                    break
                                continue
                        if not record:
                            stats.blank_lines += 1
                            continue
                        if span > 1:  # lines are split without terminators: parse again with the line breaks
                            record = next(csv.reader([f"{line}\n" for line in lines[index:index + span]],
                                                     delimiter=header.delimiter, quotechar=self.quotechar))
                        if len(record) != width:
                            reason = f"expected {width} fields, found {len(record)}"
                            if record[0] in firsts and record[0].strip() == header.names[0]:
                                reason += " (a header row with other columns: files concatenated?)"
                            reject(index, reason, "malformed_row")
                            if span > 1:
                                restart = index + 1
                                break
                            continue
                        if record[0] in firsts and self._is_header(record):
                            reject(index, "repeats the header row (files concatenated?)", "repeated_header")
                            continue
                        values = record if project is None else [record[p] for p in project]
                        if checks and (found := self._value_problem(batch.columns, values)) is not None:
                            reject(index, found.reason, found.rule, span)  # a whole, well-formed record
                            continue
                        if escape or span > 1:
                            rows.append(_line(values, first + index, suffix))
                        else:
                            rows.append(f"{TAB.join(values)}\t{first + index}{suffix}")
                        stats.records += 1
                        stats.record_lines += span
                    else:
                        restart = None
                except csv.Error as exc:
                    index = offset + prev
                    message = str(exc).split(" - ")[0]
                    reject(index, next((v for k, v in _CSV_ERRORS.items() if message.startswith(k)), "not valid CSV"),
                           "bad_quoting")
                    restart = index + 1
                if restart is None:
                    break
                offset = restart
        finally:
            lines.pop()
        return count

    def _too_big(self, lines: list[str], index: int) -> bool:
        """A multi-line record still open is carried to the next block unless it is too long to hold."""
        return sum(map(len, islice(lines, index, None))) > self.max_line_bytes

    def _span_problem(self, first: int, index: int, span: int, count: int, problems: dict[int, LineProblem],
                      multiline: bool) -> LineProblem | None:
        """Why the record starting at ``index`` and covering ``span`` lines cannot be loaded, if it cannot."""
        if index + span > count:
            return LineProblem("unclosed_quote", "a quoted field opened on this line is not closed"
                               + (" (it runs to the end of the file)" if multiline else ""))
        if span > 1 and not multiline:
            return LineProblem("multiline_record", f"a quoted field runs past the end of the line (the record "
                               f"would span {span} lines, up to line {first + index + span - 1}); set "
                               "source.multiline: true if fields may contain line breaks")
        for number in range(first + index, first + index + span):
            if number in problems:
                problem = problems[number]
                if number == first + index:
                    return problem
                return LineProblem(problem.rule, f"the record's line {number} cannot be read: {problem.reason}")
        return None


def _raise_csv_field_limit(limit: int) -> None:
    """The csv module's field limit is process-wide; Atlas checks fields itself, after parsing."""
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)


# ----------------------------------------------------------------------------------- JSON lines


class JsonLinesReader(Reader):
    """Newline-delimited JSON objects (one record per physical line)."""

    formats = ("json",)

    def batches(self, handle: IO[bytes], suffix: str = "") -> Iterator[Batch]:
        ignore_extra = bool(self.options.get("ignore_extra_columns", False))
        known = set(self.columns)
        stats = self.stats
        seen_object = False
        for block in line_blocks(handle, self.name, str(self.options.get("encoding", "utf-8")),
                                 self.max_line_bytes, kind="JSON lines", block_bytes=self.block_bytes):
            batch = Batch(self.columns)
            stats.lines += len(block.lines)
            for number, line in enumerate(block.lines, start=block.first):
                found = self._record(number, line, block.problems, known, ignore_extra, seen_object)
                if found is None:
                    stats.blank_lines += 1
                    continue
                if isinstance(found, Malformed):
                    batch.malformed.append(found)
                    stats.malformed += 1
                    stats.malformed_lines += 1
                    continue
                seen_object = True
                batch.rows.append(_line(found, number, suffix))
                stats.records += 1
                stats.record_lines += 1
            yield batch

    def _record(self, number: int, line: str, problems: dict[int, LineProblem], known: set[str],
                ignore_extra: bool, seen_object: bool) -> list[str | None] | Malformed | None:
        if number in problems:
            return Malformed(number, problems[number].reason, problems[number].rule)
        if not line.strip():
            return None
        if not seen_object and line.lstrip().startswith("["):
            raise AtlasInputError(f"{self.name}: line {number}: the file is a JSON array; Atlas reads JSON lines "
                                  "(one object per line)")
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            return Malformed(number, f"not valid JSON at column {exc.colno}: {exc.msg}", "invalid_json")
        if not isinstance(record, dict):
            return Malformed(number, "not a JSON object", "invalid_json")
        extra = set(record) - known
        if extra and not ignore_extra:
            return Malformed(number, f"unexpected field(s) {sorted(extra)[:10]}", "unexpected_fields")
        values = [_text(record.get(c)) for c in self.columns]
        problem = self._value_problem(self.columns, values)
        if problem is None and "\\u" in line.lower():  # an escape can decode to a lone surrogate
            problem = next((Malformed(number, f"{c}: contains an unpaired UTF-16 surrogate escape, which is not "
                                              "text", f"{c}.invalid_unicode")
                            for c, v in zip(self.columns, values, strict=True) if v and _SURROGATE.search(v)), None)
        if problem is not None:
            return Malformed(number, problem.reason, problem.rule)
        return values


# ----------------------------------------------------------------------------------- Parquet


class ParquetReader(Reader):
    """Parquet row groups in batches; the row number is the row's position in the file."""

    formats = ("parquet",)

    def batches(self, handle: IO[bytes], suffix: str = "") -> Iterator[Batch]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(handle)
        except (pa.ArrowException, OSError) as exc:
            raise AtlasInputError(f"{self.name}: not a readable Parquet file ({type(exc).__name__})") from None
        names = parquet.schema_arrow.names
        self._check_names(names)
        number = 0
        for record_batch in parquet.iter_batches(batch_size=10_000, columns=self.columns):
            batch = Batch(self.columns)
            columns = [record_batch.column(i).to_pylist() for i in range(record_batch.num_columns)]
            for values in zip(*columns, strict=True):
                number += 1
                texts = [_text(v) for v in values]
                problem = self._value_problem(self.columns, texts)
                if problem is not None:
                    batch.malformed.append(Malformed(number, problem.reason, problem.rule))
                    self.stats.malformed += 1
                    self.stats.malformed_lines += 1
                    continue
                batch.rows.append(_line(texts, number, suffix))
                self.stats.records += 1
                self.stats.record_lines += 1
            self.stats.lines = number
            yield batch

    def _check_names(self, names: Sequence[str]) -> None:
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise AtlasInputError(f"{self.name}: the schema names column '{duplicated[0]}' more than once")
        missing = [c for c in self.columns if c not in names]
        if missing:
            raise AtlasInputError(f"{self.name}: schema is missing configured column(s) {missing}")
        extra = [n for n in names if n not in self.columns]
        if extra and not self.options.get("ignore_extra_columns", False):
            raise AtlasInputError(
                f"{self.name}: schema has column(s) not in the table schema {extra}; add them to the "
                "schema or set source.options.ignore_extra_columns: true")


READERS: dict[str, type[Reader]] = {f: cls for cls in (CsvReader, JsonLinesReader, ParquetReader)
                                    for f in cls.formats}


def reader_for(name: str, columns: Sequence[str], source: SourceSpec) -> Reader:
    return READERS[source.format](name, columns, source)
