"""Data quality: SodaCL checks per table and layer, six dimensions, warn/fail severity, a gate.

Light to import (no Soda import until a scan runs)::

    report = run_quality(dsn, spec, "silver", run_id, logical_date)
    log.info(report.format_table())
    report.raise_for_failures()   # AtlasQualityGateError listing every blocking check
"""

from atlas.quality.model import DIMENSIONS, CheckResult, QualityReport
from atlas.quality.runner import run_quality
from atlas.quality.sodacl import build_checks

__all__ = ["DIMENSIONS", "CheckResult", "QualityReport", "build_checks", "run_quality"]
