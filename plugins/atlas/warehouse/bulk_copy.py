"""Bulk loading with PostgreSQL COPY (text format), in bounded chunks."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# Characters that need escaping in COPY's text format (a block without them is joined as is).
SPECIAL = ("\\", "\t", "\n", "\r")


def _field(value: object) -> str:
    if value is None:
        return "\\N"
    return str(value).translate(_ESCAPES)


def text_field(value: str) -> str:
    """One value escaped for COPY text format (for rows sent with :func:`copy_text_lines`)."""
    return value.translate(_ESCAPES)


def copy_rows(cur: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """COPY ``rows`` into ``table(columns)``; returns the number of rows sent."""
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write("\t".join(_field(v) for v in row))
        buffer.write("\n")
        count += 1
    if count:
        buffer.seek(0)
        cols = ", ".join(quote_ident(c) for c in columns)
        cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT text)", buffer)
    return count


def copy_text_lines(cur: Any, table: str, columns: Sequence[str], lines: Sequence[str]) -> int:
    """COPY pre-formatted text-format lines (tab-separated, fields escaped with :func:`text_field`,
    no trailing newline) into ``table(columns)``. An empty field is NULL: bronze keeps no empty strings."""
    return copy_text_stream(cur, table, columns, iter([lines])) if lines else 0


class _LineStream:
    """A file-like view of chunks of COPY lines for ``copy_expert``. An exception raised while producing
    them is kept: psycopg2 would replace it by a generic QueryCanceled."""

    def __init__(self, chunks: Iterator[Sequence[str]]) -> None:
        self.chunks, self.count, self.error = chunks, 0, None

    def read(self, size: int = -1) -> str:
        try:
            for chunk in self.chunks:
                if chunk:
                    self.count += len(chunk)
                    return "\n".join(chunk) + "\n"
        except Exception as exc:
            self.error = exc
            raise
        return ""

    def readline(self, size: int = -1) -> str:  # part of the file protocol psycopg2 checks for
        return self.read(size)


def copy_text_stream(cur: Any, table: str, columns: Sequence[str], chunks: Iterator[Sequence[str]]) -> int:
    """One COPY of every chunk of pre-formatted text lines (see :func:`copy_text_lines`), streamed:
    PostgreSQL loads a chunk while the next one is produced. Returns the number of lines sent."""
    import psycopg2

    stream = _LineStream(chunks)
    cols = ", ".join(quote_ident(c) for c in columns)
    try:
        cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT text, NULL '')", stream, size=1 << 16)
    except psycopg2.Error:
        if stream.error is not None:
            raise stream.error from None
        raise
    return stream.count


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
