"""Bulk loading with PostgreSQL COPY (text format), in bounded chunks."""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg2.extensions import cursor as PgCursor

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


def copy_rows(cur: PgCursor, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
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


def text_columns(columns: Iterable[Sequence[object]]) -> list[list[str]]:
    """Each column's values as COPY text fields (``\\N`` for None, anything else ``str`` and
    escaped), a whole column at a time: a column whose values hold no special character (the
    usual case) is taken as it is, without a Python call per value."""
    out = []
    for values in columns:
        present = [v for v in values if v is not None]
        try:
            probe = "".join(present)  # type: ignore[arg-type]
        except TypeError:  # not only str: each value as str, as :func:`_field` does
            values = [v if v is None or isinstance(v, str) else str(v) for v in values]
            probe = "".join(v for v in values if v is not None)  # type: ignore[misc]
        if any(c in probe for c in SPECIAL):
            out.append([_field(v) for v in values])
        else:
            out.append(["\\N" if v is None else v for v in values])  # type: ignore[misc]
    return out


def copy_columns(cur: PgCursor, table: str, columns: Sequence[str], values: Sequence[Sequence[object]]) -> int:
    """COPY column-wise ``values`` (one sequence per name in ``columns``, all the same length;
    None is NULL) into ``table(columns)``, the text built column by column (:func:`text_columns`)
    instead of field by field. Same rows as :func:`copy_rows` with the rows of these columns."""
    fields = text_columns(values)
    count = len(fields[0]) if fields else 0
    if count:
        text = "\n".join(map("\t".join, zip(*fields, strict=True))) + "\n"
        cols = ", ".join(quote_ident(c) for c in columns)
        cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT text)", io.StringIO(text))
    return count


def copy_text_lines(cur: PgCursor, table: str, columns: Sequence[str], lines: Sequence[str]) -> int:
    """COPY pre-formatted text-format lines (tab-separated, fields escaped with :func:`text_field`,
    no trailing newline) into ``table(columns)``. An empty field is NULL: bronze keeps no empty strings."""
    return copy_text_stream(cur, table, columns, iter([lines])) if lines else 0


_END = object()


class _LineStream:
    """A file-like view of chunks of COPY lines for ``copy_expert``, produced in a background thread.

    libpq blocks in each write until PostgreSQL has taken the data, so producing the next chunk in
    the same thread would leave one side idle; with a producer thread the two overlap (psycopg2
    releases the GIL while it waits on the server). At most ``depth`` chunks wait in between.
    An exception raised while producing is kept: psycopg2 would replace it by a QueryCanceled.
    """

    def __init__(self, chunks: Iterator[Sequence[str]], depth: int = 2) -> None:
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.count, self.error = 0, None
        self.thread = threading.Thread(target=self._produce, args=(chunks,), name="atlas-copy-lines", daemon=True)

    def _put(self, item: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, chunks: Iterator[Sequence[str]]) -> None:
        try:
            for chunk in chunks:
                if chunk and not self._put((len(chunk), "\n".join(chunk) + "\n")):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed over to the thread running the COPY
            self.error = exc
        finally:
            self._put(_END)

    def read(self, size: int = -1) -> str:
        item = self.queue.get()
        if item is _END:
            self.queue.put(_END)  # every later read ends too
            if self.error is not None:
                raise self.error
            return ""
        lines, text = item
        self.count += lines
        return text

    def readline(self, size: int = -1) -> str:  # part of the file protocol psycopg2 checks for
        return self.read(size)

    def __enter__(self) -> _LineStream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def copy_text_stream(cur: PgCursor, table: str, columns: Sequence[str], chunks: Iterator[Sequence[str]]) -> int:
    """One COPY of every chunk of pre-formatted text lines (see :func:`copy_text_lines`), streamed:
    PostgreSQL loads a chunk while the next one is produced. Returns the number of lines sent."""
    import psycopg2

    cols = ", ".join(quote_ident(c) for c in columns)
    with _LineStream(chunks) as stream:
        try:
            cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT text, NULL '')", stream, size=1 << 16)
        except psycopg2.Error:
            if stream.error is not None:
                raise stream.error from None
            raise
    if stream.error is not None:  # raised after the last read: the COPY itself completed
        raise stream.error
    return stream.count


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
