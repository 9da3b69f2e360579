"""Leak guard: raw bronze PII must not reach silver, gold or AI-ready.

:func:`find_leaks` compares, inside PostgreSQL, every distinct raw non-empty value of the
source PII columns with every text-like column of each target: whole cells (``exact``) and
the whitespace-separated words of target cells (``token``, catching a raw email or phone
number left inside free text). Both are hash joins over sets, not loops over rows.
:func:`find_detector_hits` runs the detectors over a sample of target columns that should be
PII-free. Results carry names and counts, never values.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

TEXT_TYPES = ("text", "character varying", "character", "citext")
MIN_VALUE_LENGTH = 4  # shorter raw values ("M", "DK") identify no one and match everywhere
TOKEN_TRIM = "'.,;:!?()[]{}<>\"'"  # noqa: S105 - punctuation trimmed from words, not a secret


@dataclass(frozen=True)
class Leak:
    """Raw values of ``source_column`` found in ``target``.``column`` (``matches`` cells or words)."""

    target: str
    column: str
    source_column: str
    matches: int
    match: str = "exact"  # exact: whole cell equals a raw value; token: a word of the cell does


@dataclass(frozen=True)
class DetectorHit:
    """Detectors fired on a column that should be PII-free."""

    target: str
    column: str
    entity_types: tuple[str, ...]
    hit_rate: float
    rows_scanned: int


def _split(qualified: str) -> tuple[str, str]:
    schema, _, table = qualified.partition(".")
    if not table:
        raise ValueError(f"expected schema.table, got {qualified!r}")
    return schema, table


def text_columns(conn: Any, qualified: str) -> list[str]:
    """Text-like columns of ``schema.table`` in table order ([] when the table does not exist)."""
    schema, table = _split(qualified)
    with conn.cursor() as cur:
        cur.execute(
            """
            SELECT column_name FROM information_schema.columns
            WHERE table_schema = %s AND table_name = %s
              AND (data_type = ANY(%s) OR udt_name = 'citext')
            ORDER BY ordinal_position
            """,
            (schema, table, list(TEXT_TYPES)),
        )
        return [row[0] for row in cur.fetchall()]


def _source_values_sql(source_table: str, pii_columns: Sequence[str], logical_date: str | None) -> Any:
    from psycopg2 import sql

    schema, table = _split(source_table)
    scope = (sql.SQL(" AND _atlas_logical_date = {}").format(sql.Literal(logical_date))
             if logical_date else sql.SQL(""))
    parts = [
        sql.SQL(
            "SELECT {label} AS source_column, btrim({col}::text) AS v FROM {tbl} "
            "WHERE {col} IS NOT NULL AND length(btrim({col}::text)) >= {min_len}{scope}"
        ).format(
            label=sql.Literal(column),
            col=sql.Identifier(column),
            tbl=sql.Identifier(schema, table),
            min_len=sql.Literal(MIN_VALUE_LENGTH),
            scope=scope,
        )
        for column in pii_columns
    ]
    return sql.SQL("SELECT DISTINCT source_column, v FROM ({}) raw").format(sql.SQL(" UNION ALL ").join(parts))


def _cells_sql(target: str, columns: Sequence[str]) -> Any:
    from psycopg2 import sql

    schema, table = _split(target)
    return sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {label} AS target_column, {col}::text AS cell FROM {tbl} WHERE {col} IS NOT NULL").format(
            label=sql.Literal(c), col=sql.Identifier(c), tbl=sql.Identifier(schema, table)
        )
        for c in columns
    )


_CELL_MATCHES = """
    SELECT c.target_column, s.source_column, count(*), 'exact'
    FROM atlas_leak_cells c JOIN atlas_leak_src s ON btrim(c.cell) = s.v GROUP BY 1, 2"""
_WORDS = """
    CREATE TEMP TABLE atlas_leak_words AS
    SELECT c.target_column, btrim(w, %s) AS word
    FROM atlas_leak_cells c, regexp_split_to_table(c.cell, '\\s+') AS w WHERE c.cell ~ '\\s'"""
_WORD_MATCHES = """
    SELECT w.target_column, s.source_column, count(*), 'token'
    FROM atlas_leak_words w JOIN atlas_leak_src s ON w.word = s.v GROUP BY 1, 2"""


def find_leaks(conn: Any, source_table: str, pii_columns: Sequence[str], targets: Sequence[str],
               logical_date: str | None = None) -> list[Leak]:
    """Every target column holding raw values of the source PII columns (exact or as a word).

    ``pii_columns`` are the columns whose raw values must not travel (leave out ``keep``
    columns); ``logical_date`` limits the raw values to that bronze slice. Values and cells are
    staged in analyzed temporary tables so PostgreSQL hash-joins them whatever the statistics
    of freshly loaded tables say. Targets that do not exist yet are skipped. Read-only.
    """
    if not pii_columns:
        return []
    leaks: list[Leak] = []
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS atlas_leak_src, atlas_leak_cells, atlas_leak_words")
        cur.execute(b"CREATE TEMP TABLE atlas_leak_src AS " +
                    _source_values_sql(source_table, pii_columns, logical_date).as_string(conn).encode())
        cur.execute("ANALYZE atlas_leak_src")
        for target in targets:
            columns = text_columns(conn, target)
            if not columns:
                log.info("leak guard: %s has no text columns or does not exist; skipped", target)
                continue
            cells = _cells_sql(target, columns).as_string(conn).encode()
            cur.execute(b"CREATE TEMP TABLE atlas_leak_cells AS " + cells)
            cur.execute("ANALYZE atlas_leak_cells")
            cur.execute(_CELL_MATCHES)
            rows = cur.fetchall()
            cur.execute(_WORDS, (TOKEN_TRIM,))
            cur.execute("ANALYZE atlas_leak_words")
            cur.execute(_WORD_MATCHES)
            rows += cur.fetchall()
            cur.execute("DROP TABLE atlas_leak_cells, atlas_leak_words")
            leaks.extend(Leak(target, column, source, int(n), how) for column, source, n, how in rows)
        cur.execute("DROP TABLE atlas_leak_src")
    return sorted(leaks, key=lambda x: (x.target, x.column, x.source_column, x.match))


def sample_text_columns(
    conn: Any, qualified: str, columns: Sequence[str] | None = None, size: int = 500
) -> dict[str, list[str | None]]:
    """Up to ``size`` random rows of the text columns of ``schema.table``, drawn across the
    whole table (``ORDER BY random()``), as column -> values."""
    from psycopg2 import sql

    names = list(columns) if columns is not None else text_columns(conn, qualified)
    if not names:
        return {}
    schema, table = _split(qualified)
    query = sql.SQL("SELECT {cols} FROM {tbl} ORDER BY random() LIMIT {n}").format(
        cols=sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in names),
        tbl=sql.Identifier(schema, table),
        n=sql.Literal(int(size)),
    )
    with conn.cursor() as cur:
        cur.execute(query)
        rows = cur.fetchall()
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def find_detector_hits(
    conn: Any,
    target: str,
    spec: Any,
    *,
    exclude: Sequence[str] = (),
    sample_size: int | None = None,
) -> list[DetectorHit]:
    """Columns of ``target`` (other than ``exclude``, e.g. ``keep`` columns) that the detectors
    classify as PII on a random sample: they should be PII-free after protection."""
    from atlas.pii.classify import detect_column
    from atlas.pii.scanner import ScanOptions, TextScanner

    columns = [c for c in text_columns(conn, target) if c not in set(exclude)]
    samples = sample_text_columns(conn, target, columns, sample_size or int(spec.sample_size))
    scanner = TextScanner(ScanOptions.from_spec(spec))
    hits = []
    for column, values in samples.items():
        detection = detect_column(scanner, column, values, spec)
        if detection.kind != "none":
            hits.append(DetectorHit(target, column, detection.entity_types, detection.hit_rate,
                                    detection.rows_scanned))
    return hits
