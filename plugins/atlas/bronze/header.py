"""The header of a delimited file: Excel's ``sep=`` line, the delimiter, and the column names.

Every problem is an :class:`AtlasInputError` naming the file and the physical line, and where
it helps, what was found and what would work (a delimiter that splits the header into the
configured columns).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass

from atlas.errors import AtlasInputError

DELIMITERS = (",", ";", "\t", "|")
_SEP_LINE = re.compile(r"sep=(.)")


@dataclass(frozen=True)
class Header:
    """Where the data starts and how to read it."""

    names: tuple[str, ...]  # as written (whitespace and a byte order mark removed)
    positions: tuple[int, ...]  # position in the file of each configured column, in config order
    delimiter: str
    line: int  # physical line number of the header

    @property
    def width(self) -> int:
        return len(self.names)


def sep_line(line: str) -> str | None:
    """The delimiter named by an Excel ``sep=;`` first line, if ``line`` is one."""
    match = _SEP_LINE.fullmatch(line.strip(" "))
    return match.group(1) if match else None


def split(line: str, delimiter: str, quotechar: str) -> list[str]:
    """Fields of one header line, whitespace and a byte order mark removed."""
    fields = next(csv.reader([line], delimiter=delimiter, quotechar=quotechar), [])
    return [f.strip().lstrip("\ufeff").strip() for f in fields]


def _describe(names: Sequence[str]) -> str:
    return f"{len(names)} column{'s' if len(names) != 1 else ''}"


def _better_delimiter(line: str, quotechar: str, configured: str, columns: Sequence[str]) -> str | None:
    """Another common delimiter that splits ``line`` into every configured column."""
    for candidate in DELIMITERS:
        if candidate != configured and set(columns) <= set(split(line, candidate, quotechar)):
            return candidate
    return None


def _shown(delimiter: str) -> str:
    return "'\\t' (tab)" if delimiter == "\t" else f"'{delimiter}'"


def parse_header(file: str, line: str, number: int, columns: Sequence[str], delimiter: str, quotechar: str,
                 ignore_extra: bool, from_sep_line: bool = False) -> Header:
    """Check a header line against the configured columns; positions of those columns in the file."""
    if "\x00" in line:
        raise AtlasInputError(f"{file}: line {number} (the header) contains NUL bytes: the file is binary, or "
                              "UTF-16/UTF-32 without a byte order mark")
    if "\r" in line:
        raise AtlasInputError(f"{file}: line {number} (the header) contains a carriage return: lines end with CR "
                              "only (old Mac line endings); save the file with LF or CRLF line endings")
    try:
        names = split(line, delimiter, quotechar)
    except csv.Error:
        raise AtlasInputError(f"{file}: line {number} (the header) is not valid CSV") from None
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen and name:
            raise AtlasInputError(f"{file}: line {number}: the header names column '{name}' twice (columns "
                                  f"{seen[name]} and {position}); each column must appear once")
        seen.setdefault(name, position)
    missing = [c for c in columns if c not in seen]
    if missing:
        better = None if from_sep_line else _better_delimiter(line, quotechar, delimiter, columns)
        if better is not None:
            raise AtlasInputError(
                f"{file}: line {number}: with delimiter {_shown(delimiter)} the header has {_describe(names)} and "
                f"lacks {len(missing)} configured column(s); with {_shown(better)} it has all {len(columns)}: set "
                f"source.options.delimiter to {_shown(better)} or start the file with a 'sep={better}' line")
        raise AtlasInputError(f"{file}: line {number}: header is missing configured column(s) {missing} (found "
                              f"{_describe(names)} with delimiter {_shown(delimiter)})")
    unnamed = [position for position, name in enumerate(names, start=1) if not name]
    if unnamed and not ignore_extra:
        raise AtlasInputError(
            f"{file}: line {number}: header column(s) {unnamed} have no name (a delimiter at the end of the "
            "line?); name them in the file or set source.options.ignore_extra_columns: true")
    extra = [n[:60] for n in names if n and n not in columns]
    if extra and not ignore_extra:
        raise AtlasInputError(
            f"{file}: line {number}: header has column(s) not in the table schema {extra[:10]}; add them to the "
            "schema or set source.options.ignore_extra_columns: true")
    return Header(tuple(names), tuple(seen[c] - 1 for c in columns), delimiter, number)
