"""Leak guard: raw bronze PII must not reach silver, gold or AI-ready.

The raw values of a slice's direct-identifier columns (stripped, at least
:data:`MIN_VALUE_LENGTH` characters, not a column name) are a set; every text cell of an output
is checked against it as a whole (``exact``) and word by word (``token``: a raw email or phone
number left inside free text). Values are compared as 64-bit fingerprints (Python's keyed
string hash) in sorted NumPy arrays: 8 bytes per distinct value, one sort and one binary search
per value, linear in the slice. A false match has a probability below 1e-6 for a 1M-row day and
fails closed. The fingerprints never leave the process.

* :class:`SliceLeakGuard` checks a slice where it is produced: ``build_silver`` feeds it each
  chunk's raw rows and their protected output, and asks it before the commit that publishes.
* :func:`find_leaks` reads raw values from bronze and the cells of tables built in SQL (gold,
  the AI-ready staging table) column by column, a range of heap pages per query (TID range
  scans): no set-based SQL whose speed depends on PostgreSQL's plan (a parallel ``DISTINCT``
  over freshly loaded data stalled for hours), memory bounded by the range.
* :func:`find_detector_hits` runs the detectors over a sample of output columns that should be
  PII-free.

Metadata columns (``_atlas_*``: run ids, source files, quarantine reasons and rules) are never
checked, and a raw value equal to a column name (a header row repeated in the data) is no
evidence. Results carry names and counts, never values.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import methodcaller, not_, or_
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from psycopg2.extensions import connection as PgConnection

log = logging.getLogger(__name__)

MIN_VALUE_LENGTH = 4  # shorter raw values ("M", "DK") identify no one and match everywhere
TOKEN_TRIM = "'.,;:!?()[]{}<>\"'"  # noqa: S105 - punctuation trimmed from words, not a secret
META_PREFIX = "_atlas_"
READ_PAGES = 2048  # heap pages (8 kB) read per query by find_leaks: ~16 MB of table
_COMPACT_PARTS = 64  # merge a column's fingerprint arrays once this many have accumulated


@dataclass(frozen=True)
class Leak:
    """``matches`` distinct raw values of ``source_table``.``source_column`` found in
    ``target``.``column``: as whole cells (``exact``) or as words inside text (``token``)."""

    target: str
    column: str
    source_column: str
    matches: int
    match: str = "exact"
    source_table: str = ""

    def describe(self) -> str:
        where = " inside text" if self.match == "token" else ""
        source = f"{self.source_table}.{self.source_column}" if self.source_table else self.source_column
        return f"{self.target}.{self.column} has {self.matches} raw value(s) of {source}{where}"


@dataclass(frozen=True)
class DetectorHit:
    """Detectors fired on a column that should be PII-free."""

    target: str
    column: str
    entity_types: tuple[str, ...]
    hit_rate: float
    rows_scanned: int


@dataclass(frozen=True)
class LeakSource:
    """Raw values that must not travel: ``columns`` of ``table`` (``schema.table``), limited to
    one logical date's slice when ``logical_date`` is set."""

    table: str
    columns: tuple[str, ...]
    logical_date: str | None = None


@dataclass(frozen=True)
class LeakTarget:
    """An output to check: ``relation`` (``schema.table``, also ``pg_temp.<name>``) as messages
    call it (``name``, default the relation), optionally only rows where column = value.
    ``values``: (label, values) the output publishes outside its cells, e.g. the vocabularies an
    AI-ready manifest lists."""

    relation: str
    name: str = ""
    where: tuple[tuple[str, str], ...] = ()
    values: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def label(self) -> str:
        return self.name or self.relation


def leak_message(leaks: Sequence[Leak]) -> str:
    """One line naming every leaking column and how many raw values it holds (no values)."""
    return "raw PII reached downstream tables: " + "; ".join(leak.describe() for leak in leaks)


# ----------------------------------------------------------------------------- value sets


# Value sets are built with C-level iterator pipelines (set, map, compress): a Python loop per
# value would cost several times the guard's budget at a million rows.
_LONG_ENOUGH = (MIN_VALUE_LENGTH - 1).__lt__
_trim_token = methodcaller("strip", TOKEN_TRIM)


def _texts(values: Iterable[Any], *, distinct: bool = True) -> list[str]:
    """Non-empty values as stripped strings of at least MIN_VALUE_LENGTH characters; with
    ``distinct`` (worth it unless most values are unique) without repeats, else duplicates are
    removed with the fingerprints."""
    if distinct:
        kept: Iterable[Any] = set(values)
        kept.discard(None)  # type: ignore[attr-defined]
        kept.discard("")  # type: ignore[attr-defined]
    else:
        kept = list(filter(None, values))
    try:
        texts = list(map(str.strip, kept))
    except TypeError:  # not only strings (a number in a text-cast column of a frame)
        texts = list(map(str.strip, map(str, kept)))
    return list(compress(texts, map(_LONG_ENOUGH, map(len, texts))))


def distinct_values(values: Iterable[Any]) -> set[str]:
    """Distinct stripped values of at least MIN_VALUE_LENGTH characters (None and '' skipped)."""
    return set(_texts(values))


def _words(texts: list[str]) -> list[str]:
    # str.isprintable() is False for every whitespace but the ASCII space (tabs, newlines, NBSP...)
    spaced = compress(texts, map(or_, map(str.__contains__, texts, repeat(" ")),
                                 map(not_, map(str.isprintable, texts))))
    parts: set[str] = set()
    for text in spaced:
        parts.update(text.split())
    words = list(map(_trim_token, parts))
    return list(compress(words, map(_LONG_ENOUGH, map(len, words))))


def distinct_words(values: Iterable[Any]) -> set[str]:
    """Distinct words (split on whitespace, punctuation trimmed) of the values holding more than one."""
    return set(_words(_texts(values)))


def cells_and_words(values: Iterable[Any]) -> tuple[list[str], list[str]]:
    """The values of :func:`distinct_values` and :func:`distinct_words` in one pass (as lists
    that may repeat a value)."""
    cells = _texts(values)
    return cells, _words(cells)


def guarded_values(frame: pd.DataFrame, columns: Iterable[str],
                   unchanged_from: pd.DataFrame | None = None) -> Iterator[tuple[str, list[Any]]]:
    """``(column, values)`` for each of ``columns`` that ``frame`` has; with ``unchanged_from`` (the
    same rows in another form, e.g. as received), only the values that differ from it."""
    for column in columns:
        if column not in frame.columns:
            continue
        values = frame[column]
        if unchanged_from is not None and column in unchanged_from.columns:
            values = values[values.ne(unchanged_from[column].reindex(values.index))]
        yield column, values.tolist()


def _fingerprints(values: Collection[str]) -> np.ndarray:
    import numpy as np

    return np.fromiter(map(hash, values), dtype=np.int64, count=len(values))


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    import numpy as np

    if len(values) < 2:
        return values
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


class _FingerprintSets:
    """Fingerprint sets by key, filled in batches; merged (sorted, distinct) when read."""

    def __init__(self) -> None:
        self._parts: dict[Any, list[np.ndarray]] = {}
        self._merged_keys: set[Any] = set()
        self.values = 0

    def add(self, key: Any, values: Collection[str]) -> None:
        parts = self._parts.setdefault(key, [])
        parts.append(_fingerprints(values))
        self._merged_keys.discard(key)
        self.values += len(values)
        if len(parts) >= _COMPACT_PARTS:
            self._merged(key)

    def _merged(self, key: Any) -> np.ndarray:
        import numpy as np

        if key not in self._merged_keys:
            self._parts[key] = [_sorted_unique(np.concatenate(self._parts[key]))]
            self._merged_keys.add(key)
        return self._parts[key][0]

    def items(self) -> Iterator[tuple[Any, np.ndarray]]:
        for key in list(self._parts):
            yield key, self._merged(key)


class RawValues:
    """The raw values of the source columns, as fingerprints by (table, column)."""

    def __init__(self, ignore: Iterable[str] = ()) -> None:
        self._ignore = frozenset(name.casefold() for name in ignore)
        self._sets = _FingerprintSets()

    def add(self, table: str, column: str, values: Iterable[Any]) -> None:
        kept = _texts(values, distinct=False)  # identifiers: nearly every value differs
        if self._ignore:  # a header row repeated in the data holds column names, not PII
            names = list(compress(kept, map(str.isidentifier, kept)))  # only those can equal one
            drop = set(compress(names, map(self._ignore.__contains__, map(str.casefold, names))))
            if drop:
                kept = [v for v in kept if v not in drop]
        self._sets.add((table, column), kept)

    @property
    def size(self) -> int:
        """Values added so far (before removing duplicates across batches)."""
        return self._sets.values

    def count_in(self, fingerprints: np.ndarray) -> dict[tuple[str, str], int]:
        """How many of the distinct, sorted ``fingerprints`` are raw values, by source column."""
        import numpy as np

        found: dict[tuple[str, str], int] = {}
        if not len(fingerprints):
            return found
        for source, raw in self._sets.items():
            if not len(raw):
                continue
            at = np.minimum(np.searchsorted(raw, fingerprints), len(raw) - 1)
            hits = int(np.count_nonzero(raw[at] == fingerprints))
            if hits:
                found[source] = hits
        return found


class OutputValues:
    """Cells and words of output columns, as fingerprints by (target, column, match)."""

    def __init__(self) -> None:
        self._sets = _FingerprintSets()

    def add(self, target: str, column: str, values: Iterable[Any]) -> None:
        cells, words = cells_and_words(values)
        self._sets.add((target, column, "exact"), cells)
        if words:
            self._sets.add((target, column, "token"), words)

    @property
    def size(self) -> int:
        return self._sets.values

    def leaks(self, raw: RawValues) -> list[Leak]:
        found = []
        for (target, column, how), fingerprints in self._sets.items():
            for (table, source), count in raw.count_in(fingerprints).items():
                found.append(Leak(target, column, source, count, how, table))
        return sorted(found, key=lambda x: (x.target, x.column, x.source_table, x.source_column, x.match))


class SliceLeakGuard:
    """Checks a slice where it is produced: the raw rows and their protected output are fed chunk
    by chunk (:meth:`observe_raw`, :meth:`observe_output`); :meth:`raise_for_leaks` runs before
    the commit that would publish them. Memory: 8 bytes per distinct value, no row is kept."""

    def __init__(self, source_table: str, columns: Sequence[str], ignore: Iterable[str] = ()) -> None:
        self.source_table = source_table
        self.columns = list(columns)
        self.raw = RawValues(ignore)
        self.outputs = OutputValues()
        self.seconds = 0.0

    def observe_raw(self, frame: pd.DataFrame, unchanged_from: pd.DataFrame | None = None) -> None:
        """Add the guarded columns' values of ``frame``; with ``unchanged_from`` (the same rows in
        another form, e.g. as received), only the values that differ from it."""
        if not self.columns:
            return
        started = time.perf_counter()
        for column, values in guarded_values(frame, self.columns, unchanged_from):
            self.raw.add(self.source_table, column, values)
        self.seconds += time.perf_counter() - started

    def observe_output(self, target: str, frame: pd.DataFrame, columns: Iterable[str]) -> None:
        """Add the text ``columns`` of ``frame`` as written to ``target`` (metadata is skipped)."""
        if not self.columns:
            return
        started = time.perf_counter()
        for column in columns:
            if column in frame.columns and not column.startswith(META_PREFIX):
                self.outputs.add(target, column, frame[column].tolist())
        self.seconds += time.perf_counter() - started

    def leaks(self) -> list[Leak]:
        started = time.perf_counter()
        try:
            return self.outputs.leaks(self.raw)
        finally:
            self.seconds += time.perf_counter() - started

    def raise_for_leaks(self) -> None:
        """AtlasPiiLeakError naming every leaking column with counts (no values), if any."""
        from atlas.errors import AtlasPiiLeakError

        leaks = self.leaks()
        log.info("leak guard: %d raw and %d output values checked in %.2fs", self.raw.size,
                 self.outputs.size, self.seconds)
        if leaks:
            raise AtlasPiiLeakError(leak_message(leaks))


# ----------------------------------------------------------------------------- warehouse reads


def _split(qualified: str) -> tuple[str, str]:
    schema, _, table = qualified.partition(".")
    if not table:
        raise ValueError(f"expected schema.table, got {qualified!r}")
    return schema, table


def _relation(qualified: str) -> Any:
    from psycopg2 import sql

    return sql.Identifier(*_split(qualified))


def _columns(conn: PgConnection, qualified: str, text_only: bool) -> list[str]:
    """Columns of a table (also a temporary or not yet committed one) in table order; [] when
    it does not exist."""
    with conn.cursor() as cur:
        cur.execute(
            """
            SELECT a.attname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
              AND (NOT %s OR t.typcategory = 'S')
            ORDER BY a.attnum
            """,
            (_relation(qualified).as_string(conn), text_only),
        )
        return [row[0] for row in cur.fetchall()]


def text_columns(conn: PgConnection, qualified: str) -> list[str]:
    """Text-like data columns of ``schema.table`` ([] when it does not exist); ``_atlas_*``
    metadata columns are left out."""
    return [c for c in _columns(conn, qualified, text_only=True) if not c.startswith(META_PREFIX)]


def _filters(where: Mapping[str, str], *, indexed: bool = True) -> Any:
    """``column = value AND ...``; with ``indexed=False`` written ``(column = value) IS TRUE``,
    which no index serves: a page-range read then scans its range, never the slice's whole index."""
    from psycopg2 import sql

    template = sql.SQL("{} = {}" if indexed else "({} = {}) IS TRUE")
    return sql.SQL(" AND ").join(template.format(sql.Identifier(c), sql.Literal(v))
                                 for c, v in where.items()) if where else sql.SQL("true")


def _page_span(conn: PgConnection, qualified: str, where: Mapping[str, str]) -> tuple[int, int] | None:
    """First and last heap page that can hold rows matching ``where`` (None when there are none):
    the whole table without filters, else found through the filter (an index on a logical date)."""
    from psycopg2 import sql

    with conn.cursor() as cur:
        if not where:
            cur.execute("SELECT pg_relation_size(to_regclass(%s)) / current_setting('block_size')::int",
                        (_relation(qualified).as_string(conn),))
            pages = int(cur.fetchone()[0] or 0)
            return (0, pages - 1) if pages else None
        cur.execute(sql.SQL("SELECT min(ctid)::text, max(ctid)::text FROM {} WHERE {}").format(
            _relation(qualified), _filters(where)))
        first, last = cur.fetchone()
    if first is None:
        return None
    return int(first.strip("()").split(",")[0]), int(last.strip("()").split(",")[0])


def _read_columns(conn: PgConnection, qualified: str, columns: Sequence[str], where: Mapping[str, str],
                  pages: int) -> Iterator[dict[str, list[str]]]:
    """The non-null values (as text) of ``columns`` of the rows matching ``where``, a range of
    ``pages`` heap pages at a time: each range is one TID range scan returning every column's
    values as one string (far cheaper than a value per cursor row); memory bounded by the range."""
    from psycopg2 import sql

    span = _page_span(conn, qualified, where)
    if span is None or not columns:
        return
    query = sql.SQL("SELECT {aggs} FROM {rel} WHERE ctid >= %s::tid AND ctid < %s::tid AND {filters}").format(
        aggs=sql.SQL(", ").join(sql.SQL("string_agg({}::text, chr(30))").format(sql.Identifier(c)) for c in columns),
        rel=_relation(qualified), filters=_filters(where, indexed=False))
    with conn.cursor() as cur:
        for start in range(span[0], span[1] + 1, pages):
            cur.execute(query, (f"({start},0)", f"({start + pages},0)"))
            # a value holding the separator is split: its parts are checked, never skipped
            yield {c: joined.split("\x1e") for c, joined in zip(columns, cur.fetchone(), strict=True) if joined}


def raw_values(conn: PgConnection, sources: Sequence[LeakSource], *, pages: int = READ_PAGES) -> RawValues:
    """The raw values of ``sources`` (values equal to one of a source table's column names left out)."""
    ignore: set[str] = set()
    for source in sources:
        ignore.update(_columns(conn, source.table, text_only=False))
    raw = RawValues(ignore)
    for source in sources:
        if not source.columns:
            continue
        scope = {"_atlas_logical_date": source.logical_date} if source.logical_date else {}
        for batch in _read_columns(conn, source.table, source.columns, scope, pages):
            for column, values in batch.items():
                raw.add(source.table, column, values)
    return raw


def find_leaks(conn: PgConnection, sources: Sequence[LeakSource], targets: Sequence[str | LeakTarget], *,
               raw: RawValues | None = None, pages: int = READ_PAGES) -> list[Leak]:
    """Every text column of ``targets`` holding raw values of the ``sources`` (exact or as a word).

    Reads the raw values (or takes ``raw``, read before by :func:`raw_values` for the same
    sources), then the targets' text columns (``_atlas_*`` metadata left out), on the caller's
    connection: inside its transaction it sees uncommitted tables, so it can run before the
    commit that would publish them. Targets that do not exist are skipped. Read-only.
    """
    if not any(s.columns for s in sources):
        return []
    raw = raw if raw is not None else raw_values(conn, sources, pages=pages)
    outputs = OutputValues()
    for target in (LeakTarget(t) if isinstance(t, str) else t for t in targets):
        for label, values in target.values:
            outputs.add(target.label, label, values)
        columns = text_columns(conn, target.relation)
        if not columns:
            log.info("leak guard: %s has no text columns or does not exist; skipped", target.label)
            continue
        for batch in _read_columns(conn, target.relation, columns, dict(target.where), pages):
            for column, values in batch.items():
                outputs.add(target.label, column, values)
    return outputs.leaks(raw)


# ----------------------------------------------------------------------------- detectors


def sample_text_columns(
    conn: PgConnection, qualified: str, columns: Sequence[str] | None = None, size: int = 500
) -> dict[str, list[str | None]]:
    """Up to ``size`` random rows of the text columns of ``schema.table``, drawn across the
    whole table (``ORDER BY random()``: one scan and a top-N sort), as column -> values."""
    from psycopg2 import sql

    names = list(columns) if columns is not None else text_columns(conn, qualified)
    if not names:
        return {}
    query = sql.SQL("SELECT {cols} FROM {tbl} ORDER BY random() LIMIT {n}").format(
        cols=sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in names),
        tbl=_relation(qualified),
        n=sql.Literal(int(size)),
    )
    with conn.cursor() as cur:
        cur.execute(query)
        rows = cur.fetchall()
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def find_detector_hits(
    conn: PgConnection,
    target: str | LeakTarget,
    spec: Any,
    *,
    exclude: Sequence[str] = (),
    sample_size: int | None = None,
) -> list[DetectorHit]:
    """Text columns of ``target`` (other than ``exclude``, e.g. ``keep`` columns, and metadata)
    that the detectors classify as PII on a random sample: they should be PII-free."""
    from atlas.pii.classify import detect_column
    from atlas.pii.scanner import ScanOptions, TextScanner

    wanted = LeakTarget(target) if isinstance(target, str) else target
    columns = [c for c in text_columns(conn, wanted.relation) if c not in set(exclude)]
    samples = sample_text_columns(conn, wanted.relation, columns, sample_size or int(spec.sample_size))
    if not samples:
        return []
    scanner = TextScanner(ScanOptions.from_spec(spec))
    hits = []
    for column, values in samples.items():
        detection = detect_column(scanner, column, values, spec)
        if detection.kind != "none":
            hits.append(DetectorHit(wanted.label, column, detection.entity_types, detection.hit_rate,
                                    detection.rows_scanned))
    return hits
