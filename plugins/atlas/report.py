"""A readable summary of what Atlas did for a logical date, straight from the warehouse."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection


def _rows(conn: PgConnection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "  ") -> list[str]:
    cells = [[f"{v:,}" if isinstance(v, int) else str(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = indent + "  ".join(f"{{:<{w}}}" for w in widths)
    return [line.format(*headers), line.format(*("-" * w for w in widths))] + [line.format(*r) for r in cells]


def _exists(conn: PgConnection, qualified: str) -> bool:
    return _rows(conn, "SELECT to_regclass(%s) IS NOT NULL", (qualified,))[0][0]


def layer_counts(conn: PgConnection, table: str, ds: str) -> dict[str, int]:
    metrics = dict(_rows(conn, "SELECT metric, value FROM atlas_meta.run_metrics WHERE table_name = %s "
                               "AND stage = 'silver' AND logical_date = %s", (table, ds)))
    landed = _rows(conn, "SELECT coalesce(sum(row_count + rejected_rows), 0), coalesce(sum(rejected_rows), 0) "
                         "FROM atlas_meta.ingested_files WHERE table_name = %s AND logical_date = %s", (table, ds))[0]
    return {"landed": int(landed[0]), "malformed": int(landed[1]),
            "bronze": int(metrics.get("bronze_rows", 0)), "silver": int(metrics.get("silver_rows", 0)),
            "quarantined": int(metrics.get("quarantined_rows", 0)),
            "duplicates": int(metrics.get("duplicates_removed", 0))}


def summary(conn: PgConnection, tables: Sequence[str], ds: str) -> str:
    """The demo's closing summary for ``tables`` on logical date ``ds``."""
    out = [f"Rows per layer ({ds})"]
    counts = {t: layer_counts(conn, t, ds) for t in tables}
    out += _table(["table", "landed", "malformed", "bronze", "silver", "quarantined", "duplicates removed",
                   "reconciles"],
                  [[t, c["landed"], c["malformed"], c["bronze"], c["silver"], c["quarantined"], c["duplicates"],
                    "yes" if c["bronze"] == c["silver"] + c["quarantined"] + c["duplicates"] else "NO"]
                   for t, c in counts.items()])
    reasons = _rows(conn, "SELECT t, _atlas_reason, n FROM (" + " UNION ALL ".join(
        f"SELECT '{t}' AS t, _atlas_reason, count(*)::int AS n FROM quarantine.{t} WHERE _atlas_logical_date = %s "
        "GROUP BY _atlas_reason" for t in tables) + ") q ORDER BY t, n DESC", [ds] * len(tables))
    out += ["", "Quarantined rows by reason"] + _table(["table", "reason", "rows"], reasons)
    pii = _rows(conn, "SELECT table_name, column_name, kind, array_to_string(entity_types, ','), "
                      "round(hit_rate::numeric, 2)::text, strategy, policy_source FROM atlas_meta.pii_findings "
                      "WHERE logical_date = %s AND table_name = ANY(%s) "
                      "AND (kind <> 'none' OR policy_source <> 'none') "
                      "ORDER BY table_name, column_name", (ds, list(tables)))
    out += ["", "PII columns found and how each was protected"] + _table(
        ["table", "column", "kind", "entities", "hit rate", "protection", "policy from"], pii)
    quality = _rows(conn, "SELECT table_name, layer, count(*)::int, count(*) FILTER (WHERE outcome = 'pass')::int, "
                          "count(*) FILTER (WHERE outcome = 'warn')::int, "
                          "count(*) FILTER (WHERE outcome IN ('fail', 'error'))::int FROM atlas_meta.quality_results "
                          "WHERE logical_date = %s AND (table_name = ANY(%s) OR layer = 'gold') "
                          "GROUP BY 1, 2 ORDER BY 1, 2", (ds, list(tables)))
    out += ["", "Quality checks (Soda Core)"] + _table(["table", "layer", "checks", "pass", "warn", "fail"], quality)
    not_passed = _rows(conn, "SELECT table_name, check_name, outcome, coalesce(measured_value::text, '-') "
                             "FROM atlas_meta.quality_results WHERE logical_date = %s "
                             "AND (table_name = ANY(%s) OR layer = 'gold') "
                             "AND outcome <> 'pass' ORDER BY table_name, check_name", (ds, list(tables)))
    for table, name, outcome, value in not_passed:
        out.append(f"    {outcome.upper():5} {table}: {name} (measured {value})")
    gold = _rows(conn, "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                       "WHERE table_schema IN ('gold', 'ai_ready') AND table_name NOT LIKE '%%\\_\\_%%' ORDER BY 1")
    out += ["", "Gold and AI-ready outputs"]
    out += _table(["table", "rows"], [[name, _rows(conn, f"SELECT count(*)::int FROM {name}")[0][0]]
                                      for (name,) in gold if _exists(conn, name)])
    versions = _rows(conn, "SELECT dataset, version, row_count::int, manifest_path FROM atlas_meta.ai_ready_versions "
                           "WHERE logical_date = %s ORDER BY dataset", (ds,))
    for dataset, version, rows, manifest in versions:
        out.append(f"  {dataset} {version}: {rows:,} rows, manifest {manifest}")
    for _, _, _, manifest in versions:
        out += [""] + feature_summary(manifest)
    return "\n".join(out)


def feature_summary(manifest_path: str) -> list[str]:
    """What a published version holds, from its manifest: each numeric feature's mean and standard
    deviation before scaling (a constant feature has std 0) and each categorical's values."""
    from atlas import settings
    from atlas.ai_ready import read_manifest

    manifest = read_manifest(manifest_path, settings.storage_conn_id())
    out = [f"AI-ready {manifest.dataset} {manifest.version} from {manifest.source_table} "
           f"(run {manifest.source_run_id})"]
    out += _table(["numeric feature", "mean", "std", "missing"],
                  [[f.name, _number(f.mean), _number(f.std), f.missing] for f in manifest.numeric])
    out += _table(["categorical feature", "values"],
                  [[f.name, f"{len(f.vocabulary)}: {_first(f.vocabulary)}"] for f in manifest.categorical])
    return out


def _first(values: Sequence[str], shown: int = 8) -> str:
    return ", ".join(values[:shown]) + (f", ... ({len(values) - shown} more)" if len(values) > shown else "")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
