"""Turn Soda's check dicts into CheckResults, using the SodaCL catalog for dimension and severity."""

from __future__ import annotations

from typing import Any

from atlas.compat import SodaCheck
from atlas.quality.model import CheckResult
from atlas.quality.sodacl import CheckMeta

MS_PER_HOUR = 3_600_000


def measured_value(diagnostics: dict[str, Any]) -> float | None:
    """The check's measured value: a count, a metric, schema violations, or freshness age in hours."""
    if diagnostics.get("measure") == "time":  # freshness: Soda reports milliseconds
        if diagnostics.get("maxColumnTimestamp") is None:
            return None
        return round(float(diagnostics["value"]) / MS_PER_HOUR, 2)
    if "missing_column_names" in diagnostics or "column_type_mismatches" in diagnostics:
        return float(
            len(diagnostics.get("missing_column_names") or [])
            + len(diagnostics.get("column_type_mismatches") or {})
            + len(diagnostics.get("column_index_mismatches") or {})
        )
    value = diagnostics.get("value")
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def outcome_of(soda_outcome: str | None, severity: str) -> str:
    """Soda's outcome capped by the check's severity: a failing warn-severity check warns."""
    if soda_outcome not in ("pass", "warn", "fail"):
        return "error"
    if soda_outcome == "fail" and severity == "warn":
        return "warn"
    return soda_outcome


def to_results(
    layer: str, catalog: dict[tuple[str, str], CheckMeta], soda_checks: list[SodaCheck]
) -> list[CheckResult]:
    """One result per catalogued check; checks Soda could not evaluate become ``error``.

    Kind, threshold and column come from Soda's own parse of the check (an explicit Atlas
    ``threshold``/``column`` attribute wins); outcome and measured value from its result."""
    by_key = {(c.result.get("table"), c.result.get("name")): c for c in soda_checks}
    results = []
    for key, meta in catalog.items():
        soda = by_key.get(key)
        result = soda.result if soda else None
        severity = _attribute(result, "severity") or meta.severity
        results.append(CheckResult(
            table=meta.dataset,
            layer=layer,
            name=meta.name,
            dimension=_attribute(result, "dimension") or meta.dimension,
            severity=severity,
            outcome=outcome_of(result.get("outcome") if result else None, severity),
            measured_value=measured_value(result.get("diagnostics") or {}) if result else None,
            threshold=meta.threshold or (soda.threshold if soda else None),
            column=meta.column or (soda.column if soda else None),
            kind=soda.kind if soda else None,
        ))
    return results


def _attribute(soda_check: dict[str, Any] | None, name: str) -> str | None:
    for attr in (soda_check or {}).get("resourceAttributes") or []:
        if attr.get("name") == name:
            return str(attr.get("value"))
    return None
