"""``python -m atlas.quality.trend <table> [--days N] [--dsn DSN]``: quality score per day and dimension."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from atlas.quality.model import DIMENSIONS

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

QUERY = """
SELECT day, dimension, score, checks, failed, warned
FROM atlas_meta.quality_daily_scores
WHERE table_name = %s AND day > (SELECT max(day) FROM atlas_meta.quality_daily_scores WHERE table_name = %s) - %s
ORDER BY day
"""


def fetch_trend(conn: PgConnection, table: str, days: int) -> dict[str, dict[str, tuple[float, int, int, int]]]:
    """{day: {dimension: (score, checks, failed, warned)}} for the last ``days`` checked days."""
    from atlas.quality.store import ensure_quality_tables

    ensure_quality_tables(conn)
    with conn.cursor() as cur:
        cur.execute(QUERY, (table, table, days))
        rows = cur.fetchall()
    trend: dict[str, dict[str, tuple[float, int, int, int]]] = {}
    for day, dimension, score, checks, failed, warned in rows:
        trend.setdefault(str(day), {})[dimension] = (float(score), checks, failed, warned)
    return trend


def format_trend(table: str, trend: dict[str, dict[str, tuple[float, int, int, int]]]) -> str:
    if not trend:
        return f"no quality results for '{table}'"
    dims = [d for d in DIMENSIONS if any(d in by_dim for by_dim in trend.values())]
    head = ["day", "overall", *dims, "checks", "failed", "warned"]
    rows = []
    for day, by_dim in trend.items():
        _, checks, failed, warned = by_dim["overall"]
        scores = [f"{by_dim[d][0]:g}" if d in by_dim else "-" for d in ["overall", *dims]]
        rows.append([day, *scores, str(checks), str(failed), str(warned)])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    lines = [f"Quality score (% of checks passed) for {table}, by logical date", fmt.format(*head)]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atlas.quality.trend", description=__doc__)
    parser.add_argument("table", help="table (bronze/silver) or gold model name")
    parser.add_argument("--days", type=int, default=14, help="how many days back from the latest (default 14)")
    parser.add_argument("--dsn", help="warehouse DSN (default: the configured or embedded warehouse)")
    args = parser.parse_args(argv)
    from atlas.warehouse import connect, resolve_dsn

    conn = connect(args.dsn or resolve_dsn())
    try:
        print(format_trend(args.table, fetch_trend(conn, args.table, args.days)))
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
