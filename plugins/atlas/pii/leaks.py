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


def _source_values_sql(source_table: str, pii_columns: Sequence[str]) -> Any:
    from psycopg2 import sql

    schema, table = _split(source_table)
    parts = [
        sql.SQL(
            "SELECT {label} AS source_column, btrim({col}::text) AS v FROM {tbl} "
            "WHERE {col} IS NOT NULL AND length(btrim({col}::text)) >= {min_len}"
        ).format(
            label=sql.Literal(column),
            col=sql.Identifier(column),
            tbl=sql.Identifier(schema, table),
            min_len=sql.Literal(MIN_VALUE_LENGTH),
        )
        for column in pii_columns
    ]
    return sql.SQL("SELECT DISTINCT source_column, v FROM ({}) raw").format(sql.SQL(" UNION ALL ").join(parts))


def _target_sql(target: str, columns: Sequence[str], src: Any) -> Any:
    from psycopg2 import sql

    schema, table = _split(target)
    cells = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {label} AS target_column, {col}::text AS cell FROM {tbl} WHERE {col} IS NOT NULL").format(
            label=sql.Literal(c), col=sql.Identifier(c), tbl=sql.Identifier(schema, table)
        )
        for c in columns
    )
    return sql.SQL(
        """
        WITH src AS ({src}),
        cells AS ({cells}),
        exact AS (
            SELECT c.target_column, s.source_column, count(*) AS n, 'exact' AS how
            FROM cells c JOIN src s ON btrim(c.cell) = s.v
            GROUP BY 1, 2
        ),
        words AS (
            SELECT c.target_column, btrim(w, {trim}) AS word
            FROM cells c, regexp_split_to_table(c.cell, '\\s+') AS w
            WHERE c.cell ~ '\\s'
        ),
        token AS (
            SELECT w.target_column, s.source_column, count(*) AS n, 'token' AS how
            FROM words w JOIN src s ON w.word = s.v
            GROUP BY 1, 2
        )
        SELECT * FROM exact UNION ALL SELECT * FROM token
        """
    ).format(src=src, cells=cells, trim=sql.Literal(TOKEN_TRIM))


def find_leaks(conn: Any, source_table: str, pii_columns: Sequence[str], targets: Sequence[str]) -> list[Leak]:
    """Every target column holding raw values of the source PII columns (exact or as a word).

    ``pii_columns`` are the columns whose raw values must not travel (leave out ``keep``
    columns). Targets that do not exist yet are skipped. Read-only; one query per target.
    """
    if not pii_columns:
        return []
    src = _source_values_sql(source_table, pii_columns)
    leaks: list[Leak] = []
    for target in targets:
        columns = text_columns(conn, target)
        if not columns:
            log.info("leak guard: %s has no text columns or does not exist; skipped", target)
            continue
        with conn.cursor() as cur:
            cur.execute(_target_sql(target, columns, src))
            rows = cur.fetchall()
        leaks.extend(Leak(target, column, source, int(n), how) for column, source, n, how in rows)
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
