"""run_quality: build the checks, scan the layer offline, store results and scores, return the report."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from atlas.config import TableSpec
from atlas.errors import AtlasTransientError
from atlas.quality.model import LAYERS, QualityReport
from atlas.quality.results import to_results
from atlas.quality.scan import ScanOutput, run_scan, scan_variables
from atlas.quality.sodacl import build_document, catalog, datasets

log = logging.getLogger(__name__)


def run_quality(
    dsn: str,
    spec: TableSpec,
    layer: str,
    run_id: str,
    logical_date: date | str,
    *,
    schemas: Mapping[str, str] | None = None,
    store: bool = True,
) -> QualityReport:
    """Check ``spec``'s table(s) in schema ``layer`` for ``logical_date``; never raises on failed checks.

    ``schemas`` maps layers to other schema names (tests); by default each layer's schema is its name.

    Call ``report.raise_for_failures()`` to gate. Raises AtlasTransientError when the warehouse
    cannot be reached (worth a retry) and AtlasConfigError for broken hand-written SodaCL.
    """
    day = date.fromisoformat(logical_date) if isinstance(logical_date, str) else logical_date
    doc = build_document(spec, layer)
    checks = catalog(doc)
    conn = _connect(dsn)  # fail fast (and retry) when the warehouse is down
    try:
        output = _scan(dsn, spec, layer, day, run_id, doc, schemas) if checks else ScanOutput(checks=[])
        report = QualityReport(
            table=spec.table, layer=layer, results=to_results(layer, checks, output.checks),
            run_id=run_id, logical_date=day, errors=output.errors,
        )
        if store:
            from atlas.quality.store import store_report

            store_report(conn, report)
    finally:
        conn.close()
    log.info("quality %s/%s %s: %d checks, %d warned, %d failed, overall %.1f", spec.table, layer, day,
             len(report.results), len(report.warned), len(report.failed), report.overall)
    return report


def _scan(dsn: str, spec: TableSpec, layer: str, day: date, run_id: str, doc: dict[str, Any],
          schemas: Mapping[str, str] | None) -> ScanOutput:
    import yaml

    identifiers = {*datasets(spec, layer), *spec.table_schema.column_names, *_check_words(doc)}
    names = {name: (schemas or {}).get(name, name) for name in LAYERS}
    sodacl = yaml.safe_dump(doc, sort_keys=False, width=10_000)
    return run_scan(dsn, names[layer], sodacl, scan_variables(day, run_id, names), identifiers)


def _check_words(doc: dict[str, Any]) -> set[str]:
    """Check lines and names: Soda quotes them in its error messages and they hold no row values."""
    words = set()
    for header, section in doc.items():
        if header.startswith("checks for ") and isinstance(section, list):
            for item in section:
                line, cfg = next(iter(item.items()))
                words |= {str(line), str(cfg.get("name")), str(line).split(" ")[0]}
    return words


def _connect(dsn: str):  # noqa: ANN202 - a psycopg2 connection
    import psycopg2

    from atlas.warehouse import connect

    try:
        return connect(dsn)
    except psycopg2.OperationalError as exc:
        raise AtlasTransientError(f"warehouse unreachable for quality checks: {type(exc).__name__}") from None
