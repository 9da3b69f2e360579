"""COPY built column by column loads exactly what the row-by-row COPY loads."""

from __future__ import annotations

from atlas.warehouse.bulk_copy import _field, copy_columns, copy_rows, text_columns

COLUMNS = [
    ["plain", "with\ttab", "new\nline", "back\\slash", "cr\r", None, "", "Ærø"],
    [1, 2, None, 4, 5, 6, 7, 8],  # not str: written as str() like copy_rows does
    ["a", "b", "c", "d", "e", "f", "g", None],
    [None] * 8,
]


def test_text_columns_are_the_row_by_row_fields():
    assert text_columns(COLUMNS) == [[_field(v) for v in column] for column in COLUMNS]


def test_copy_columns_loads_the_same_rows_as_copy_rows(wh_conn):
    with wh_conn.cursor() as cur:
        for name in ("bulk_rows", "bulk_columns"):
            cur.execute(f"CREATE TEMP TABLE {name} (a text, b bigint, c text, d text)")
        rows = list(zip(*COLUMNS, strict=True))
        assert copy_rows(cur, "bulk_rows", ["a", "b", "c", "d"], rows) == 8
        assert copy_columns(cur, "bulk_columns", ["a", "b", "c", "d"], COLUMNS) == 8
        assert copy_columns(cur, "bulk_columns", ["a", "b", "c", "d"], [[], [], [], []]) == 0
        cur.execute("SELECT count(*) FROM (SELECT * FROM bulk_rows EXCEPT ALL SELECT * FROM bulk_columns) x")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT a, b, c, d FROM bulk_columns ORDER BY b NULLS FIRST, a")
        assert len(cur.fetchall()) == 8
