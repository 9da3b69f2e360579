"""Bulk loading with PostgreSQL COPY (text format), in bounded chunks."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _field(value: object) -> str:
    if value is None:
        return "\\N"
    return str(value).translate(_ESCAPES)


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
        cols = ", ".join(f'"{c}"' for c in columns)
        cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT text)", buffer)
    return count


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
