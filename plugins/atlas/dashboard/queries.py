"""What ``atlas_meta`` (and the table's quarantine) records for one table and logical date.

Set-based: one query per section, whatever the number of checks, days or reasons. Every
function takes an open psycopg2 connection and returns JSON-ready values (dates as
``YYYY-MM-DD``); nothing here reads a row value of the table itself, only counts, names and
reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from atlas.config import TableSpec

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

MAX_DATES = 120
MAX_REASONS = 25
SILVER_METRICS = ("bronze_rows", "silver_rows", "quarantined_rows", "duplicates_removed", "superseded_rows")


def _rows(conn: PgConnection, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _num(value: Any) -> float | int | None:
    """Numbers as int when whole (counts), float otherwise; None stays None."""
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


DATES = """
SELECT logical_date FROM atlas_meta.ingested_files WHERE table_name = %(table)s
UNION
SELECT logical_date FROM atlas_meta.run_metrics WHERE table_name = %(table)s
UNION
SELECT logical_date FROM atlas_meta.quality_results WHERE table_name = %(table)s
ORDER BY 1 DESC
LIMIT %(limit)s
"""


def dates_with_data(conn: PgConnection, table: str, limit: int = MAX_DATES) -> list[str]:
    """Logical dates Atlas recorded anything for, newest first."""
    return [d.isoformat() for (d,) in _rows(conn, DATES, {"table": table, "limit": limit})]


LAYERS = """
SELECT 'ingest' AS stage, metric, value, run_id FROM (
    SELECT 'landed' AS metric, sum(row_count + rejected_rows) AS value, max(run_id) AS run_id
    FROM atlas_meta.ingested_files WHERE table_name = %(table)s AND logical_date = %(ds)s
    UNION ALL
    SELECT 'malformed', sum(rejected_rows), max(run_id)
    FROM atlas_meta.ingested_files WHERE table_name = %(table)s AND logical_date = %(ds)s
    UNION ALL
    SELECT 'loaded', sum(row_count), max(run_id)
    FROM atlas_meta.ingested_files WHERE table_name = %(table)s AND logical_date = %(ds)s
    UNION ALL
    SELECT 'files', count(*), max(run_id)
    FROM atlas_meta.ingested_files WHERE table_name = %(table)s AND logical_date = %(ds)s
) ingest WHERE value IS NOT NULL
UNION ALL
SELECT stage, metric, value, run_id FROM atlas_meta.run_metrics
WHERE table_name = %(table)s AND stage = 'silver' AND logical_date = %(ds)s
"""


def layers(conn: PgConnection, table: str, ds: str) -> dict[str, Any]:
    """Rows per layer for the date and whether they reconcile.

    ``landed`` = loaded into bronze + malformed (quarantined at ingest); bronze = silver +
    quarantined + duplicates removed + superseded (by a newer date's rows). ``None`` where the
    stage has not run for the date.
    """
    found: dict[str, dict[str, Any]] = {"ingest": {}, "silver": {}}
    runs: dict[str, str] = {}
    for stage, metric, value, run_id in _rows(conn, LAYERS, {"table": table, "ds": ds}):
        found[stage][metric] = _num(value)
        runs[stage] = run_id
    ingest, silver = found["ingest"], found["silver"]
    ingested = bool(ingest.get("files"))
    built = all(m in silver for m in SILVER_METRICS)
    rows = {
        "landed": ingest.get("landed") if ingested else None,
        "malformed": ingest.get("malformed") if ingested else None,
        "bronze": silver["bronze_rows"] if built else (ingest.get("loaded") if ingested else None),
        "silver": silver.get("silver_rows"),
        "quarantined": silver.get("quarantined_rows"),
        "duplicates": silver.get("duplicates_removed"),
        "superseded": silver.get("superseded_rows"),
    }
    accounted = (rows["silver"] + rows["quarantined"] + rows["duplicates"] + rows["superseded"]) if built else None
    checks = []
    if ingested:
        checks.append({"name": "landed = bronze + malformed", "left": rows["landed"],
                       "right": ingest["loaded"] + ingest["malformed"],
                       "ok": rows["landed"] == ingest["loaded"] + ingest["malformed"]})
    if built:
        checks.append({"name": "bronze = silver + quarantined + duplicates + superseded", "left": rows["bronze"],
                       "right": accounted, "ok": rows["bronze"] == accounted})
        if ingested:
            checks.append({"name": "silver read what ingest loaded", "left": rows["bronze"],
                           "right": ingest["loaded"], "ok": rows["bronze"] == ingest["loaded"]})
    status = "not run" if not checks else ("reconciled" if all(c["ok"] for c in checks) else "MISMATCH")
    rule_violations = {m.split(":", 1)[1]: v for m, v in silver.items() if m.startswith("rule_violations:")}
    return {"rows": rows, "files": ingest.get("files", 0), "reconciliation": {"status": status, "checks": checks},
            "rule_violations": rule_violations, "run_ids": runs}


def quarantine(conn: PgConnection, table: str, ds: str, limit: int = MAX_REASONS) -> dict[str, Any]:
    """Quarantined rows of the date by stage, rule and reason (largest first), with the command
    that rebuilds the date's silver slice from bronze once the cause is fixed."""
    reasons: list[dict[str, Any]] = []
    if _rows(conn, "SELECT to_regclass(%s) IS NOT NULL", (f"quarantine.{table}",))[0][0]:
        found = _rows(conn, f"""
            SELECT _atlas_stage, _atlas_rule, _atlas_reason, count(*) AS n
            FROM quarantine.{table} WHERE _atlas_logical_date = %s
            GROUP BY 1, 2, 3 ORDER BY n DESC, 1, 2, 3""", (ds,))
        reasons = [{"stage": s, "rule": r, "reason": why, "rows": int(n)} for s, r, why, n in found]
    if len(reasons) > limit:
        rest = reasons[limit - 1:]
        reasons = reasons[:limit - 1] + [{"stage": "-", "rule": "-", "reason": f"{len(rest)} other reasons",
                                          "rows": sum(r["rows"] for r in rest)}]
    return {"total": sum(r["rows"] for r in reasons), "reasons": reasons,
            "reprocess_command": f"python -m atlas.reprocess {table} {ds}"}


PII = """
SELECT column_name, kind, entity_types, confidence, hit_rate, rows_scanned, recognizers, strategy,
       policy_source, run_id
FROM atlas_meta.pii_findings WHERE table_name = %s AND logical_date = %s
"""


def pii(conn: PgConnection, spec: TableSpec, ds: str) -> dict[str, Any]:
    """PII findings per column, in the table's column order: what was found and how it is protected."""
    order = {name: i for i, name in enumerate(spec.table_schema.column_names)}
    columns = [{"column": c, "kind": kind, "entity_types": list(entities), "confidence": round(float(conf), 3),
                "hit_rate": round(float(hit), 4), "rows_scanned": int(scanned), "recognizers": list(recognizers),
                "strategy": strategy, "policy_source": source, "run_id": run_id}
               for c, kind, entities, conf, hit, scanned, recognizers, strategy, source, run_id
               in _rows(conn, PII, (spec.table, ds))]
    columns.sort(key=lambda f: (order.get(f["column"], len(order)), f["column"]))
    protected = [c for c in columns if c["kind"] != "none" or c["policy_source"] != "none"]
    return {"columns": protected, "columns_scanned": len(columns),
            "columns_without_pii": len(columns) - len(protected)}


SCORES = """
SELECT layer, table_name, dimension, score, checks, passed, warned, failed
FROM atlas_meta.quality_scores
WHERE logical_date = %(ds)s AND (table_name = %(table)s OR (layer = 'gold' AND table_name = ANY(%(models)s)))
ORDER BY layer, table_name, dimension
"""
TREND = """
SELECT day, dimension, score, checks, passed, warned, failed
FROM atlas_meta.quality_daily_scores
WHERE table_name = %(table)s AND day > %(ds)s::date - %(days)s AND day <= %(ds)s
ORDER BY day, dimension
"""
NOT_PASSED = """
SELECT layer, table_name, check_name, dimension, severity, outcome, measured_value, threshold
FROM atlas_meta.quality_results
WHERE logical_date = %(ds)s AND outcome <> 'pass'
  AND (table_name = %(table)s OR (layer = 'gold' AND table_name = ANY(%(models)s)))
ORDER BY (severity = 'fail' AND outcome IN ('fail', 'error')) DESC, layer, table_name, check_name
"""


def quality(conn: PgConnection, spec: TableSpec, ds: str, days: int) -> dict[str, Any]:
    """Scores of the day per layer and dimension, the daily trend over ``days`` days up to ``ds``
    (bronze and silver of the table), and every check that did not pass that day (gold included)."""
    params = {"table": spec.table, "models": list(spec.gold.models), "ds": ds, "days": days}
    scores = [{"layer": layer, "dataset": name, "dimension": dim, "score": float(score), "checks": checks,
               "passed": passed, "warned": warned, "failed": failed}
              for layer, name, dim, score, checks, passed, warned, failed in _rows(conn, SCORES, params)]
    trend: dict[str, list[dict[str, Any]]] = {}
    for day, dim, score, checks, passed, warned, failed in _rows(conn, TREND, params):
        trend.setdefault(dim, []).append({"day": day.isoformat(), "score": float(score), "checks": int(checks),
                                          "passed": int(passed), "warned": int(warned), "failed": int(failed)})
    not_passed = [{"layer": layer, "dataset": name, "check": check, "dimension": dim, "severity": severity,
                   "outcome": outcome, "blocking": severity == "fail" and outcome in ("fail", "error"),
                   "measured_value": _num(value), "threshold": threshold}
                  for layer, name, check, dim, severity, outcome, value, threshold
                  in _rows(conn, NOT_PASSED, params)]
    day = {d: points[-1] for d, points in trend.items() if points and points[-1]["day"] == ds}
    return {"day": day, "scores": scores, "trend": trend, "trend_days": days, "not_passed": not_passed}


GOLD = """
SELECT table_name, value, run_id FROM atlas_meta.run_metrics
WHERE stage = 'gold' AND metric = 'rows' AND logical_date = %s AND table_name = ANY(%s)
"""
AI_READY = """
SELECT dataset, version, row_count, manifest_path, content_hash, run_id, published_at
FROM atlas_meta.ai_ready_versions WHERE dataset = %s AND logical_date = %s ORDER BY version
"""


def outputs(conn: PgConnection, spec: TableSpec, ds: str) -> dict[str, Any]:
    """Gold models the table feeds (rows built for the date) and the AI-ready version published for it."""
    built = {model: (_num(rows), run_id) for model, rows, run_id in _rows(conn, GOLD, (ds, list(spec.gold.models)))}
    gold = [{"model": m, "table": f"gold.{m}", "rows": built.get(m, (None, None))[0],
             "run_id": built.get(m, (None, None))[1]} for m in spec.gold.models]
    ai_ready = [{"dataset": dataset, "table": f"ai_ready.{dataset}", "version": version, "rows": int(rows),
                 "manifest": manifest, "content_hash": content_hash, "run_id": run_id,
                 "published_at": _iso(published)}
                for dataset, version, rows, manifest, content_hash, run_id, published
                in (_rows(conn, AI_READY, (spec.ai_ready.name, ds)) if spec.ai_ready else [])]
    return {"gold": gold, "ai_ready": ai_ready}


RECORDED_RUNS = """
SELECT run_id FROM atlas_meta.ingested_files WHERE table_name = %(table)s AND logical_date = %(ds)s
UNION SELECT run_id FROM atlas_meta.run_metrics WHERE table_name = %(table)s AND logical_date = %(ds)s
UNION SELECT run_id FROM atlas_meta.pii_findings WHERE table_name = %(table)s AND logical_date = %(ds)s
UNION SELECT run_id FROM atlas_meta.quality_results WHERE table_name = %(table)s AND logical_date = %(ds)s
UNION SELECT run_id FROM atlas_meta.ai_ready_versions WHERE dataset = %(dataset)s AND logical_date = %(ds)s
"""


def recorded_run_ids(conn: PgConnection, spec: TableSpec, ds: str) -> list[str]:
    """Run ids whose results ``atlas_meta`` holds for the table and date."""
    params = {"table": spec.table, "ds": ds, "dataset": spec.ai_ready.name if spec.ai_ready else None}
    return sorted(r for (r,) in _rows(conn, RECORDED_RUNS, params))
