"""Stream rows of a landed file as text, one reader class per format.

Each reader yields ``(row_number, values)`` for good rows and ``Malformed(row_number, reason)``
for rows that cannot be split into the configured columns. Problems with the file as a whole
raise :class:`AtlasInputError` naming the file (and row/column where known).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, ClassVar

from atlas.errors import AtlasInputError

Row = tuple[int, list[str | None]]


@dataclass(frozen=True)
class Malformed:
    row_number: int
    reason: str


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    return text if text != "" else None


class Reader:
    """Base: subclasses implement ``rows`` for one file format."""

    formats: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str, columns: Sequence[str], options: dict[str, Any]) -> None:
        self.name, self.columns, self.options = name, list(columns), options

    def rows(self, handle: IO[bytes]) -> Iterator[Row | Malformed]:
        raise NotImplementedError

    def check_header(self, header: Sequence[str]) -> list[int]:
        """Positions of the configured columns in ``header``; errors on missing/unexpected ones."""
        present = [h.strip() for h in header]
        missing = [c for c in self.columns if c not in present]
        if missing:
            raise AtlasInputError(f"{self.name}: header is missing configured column(s) {missing}")
        extra = [h for h in present if h not in self.columns]
        if extra and not self.options.get("ignore_extra_columns", False):
            raise AtlasInputError(
                f"{self.name}: header has column(s) not in the table schema {extra}; add them to the "
                "schema or set source.options.ignore_extra_columns: true"
            )
        return [present.index(c) for c in self.columns]


class CsvReader(Reader):
    formats = ("csv",)

    def rows(self, handle: IO[bytes]) -> Iterator[Row | Malformed]:
        encoding = self.options.get("encoding", "utf-8")
        text = io.TextIOWrapper(handle, encoding=encoding, newline="")
        reader = csv.reader(text, delimiter=self.options.get("delimiter", ","),
                            quotechar=self.options.get("quotechar", '"'))
        row_number = 0
        try:
            header = next(reader, None)
            if header is None:
                raise AtlasInputError(f"{self.name}: file is empty (no header row)")
            positions = self.check_header(header)
            width = len(header)
            for row_number, record in enumerate(reader, start=1):
                if not record:
                    continue
                if len(record) != width:
                    yield Malformed(row_number, f"expected {width} fields, found {len(record)} "
                                                f"(line {reader.line_num})")
                    continue
                yield row_number, [_text(record[p]) for p in positions]
        except UnicodeDecodeError as exc:
            raise AtlasInputError(
                f"{self.name}: row {row_number + 1}: bytes are not valid {encoding} ({exc.reason})"
            ) from None
        except csv.Error as exc:
            raise AtlasInputError(f"{self.name}: row {row_number + 1}: {exc}") from None


class JsonLinesReader(Reader):
    """Newline-delimited JSON objects (one record per line)."""

    formats = ("json",)

    def rows(self, handle: IO[bytes]) -> Iterator[Row | Malformed]:
        text = io.TextIOWrapper(handle, encoding=self.options.get("encoding", "utf-8"))
        for row_number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Malformed(row_number, f"not valid JSON at column {exc.colno}: {exc.msg}")
                continue
            if not isinstance(record, dict):
                yield Malformed(row_number, "not a JSON object")
                continue
            extra = set(record) - set(self.columns)
            if extra and not self.options.get("ignore_extra_columns", False):
                yield Malformed(row_number, f"unexpected field(s) {sorted(extra)}")
                continue
            yield row_number, [_text(record.get(c)) for c in self.columns]


class ParquetReader(Reader):
    formats = ("parquet",)

    def rows(self, handle: IO[bytes]) -> Iterator[Row | Malformed]:
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(handle)
        positions = self.check_header(parquet.schema_arrow.names)
        names = [parquet.schema_arrow.names[p] for p in positions]
        row_number = 0
        for batch in parquet.iter_batches(batch_size=10_000, columns=names):
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for values in zip(*columns, strict=True):
                row_number += 1
                yield row_number, [_text(v) for v in values]


READERS: dict[str, type[Reader]] = {f: cls for cls in (CsvReader, JsonLinesReader, ParquetReader)
                                    for f in cls.formats}


def reader_for(fmt: str, name: str, columns: Sequence[str], options: dict[str, Any]) -> Reader:
    return READERS[fmt](name, columns, options)
