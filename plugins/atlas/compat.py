"""Every place Atlas reaches into a library's private internals, in one module.

Soda Core 3.5 has no public API for: turning off failed-row samples, closing its connections
(it leaves them idle in a transaction, holding locks), reading a check's parsed configuration
(metric, column, thresholds) or switching its telemetry singletons off. Presidio's overrides
live with the engine (``atlas.pii.engine``) and are listed in :data:`TESTED` too.

:data:`TESTED` names the versions these were written against; :func:`version_drift` reports an
installed version that differs, and ``tests/test_compat.py`` exercises every accessor against
the installed libraries, so an upgrade that moves an internal fails there, loudly, instead of
quietly in a task.
"""

from __future__ import annotations

import importlib.metadata
import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

#: distribution -> the version whose internals this module (and atlas.pii.engine) relies on
TESTED: dict[str, str] = {
    "soda-core": "3.5.6",
    "presidio-analyzer": "2.2.366",
}


def version_drift() -> dict[str, tuple[str, str]]:
    """Distributions whose installed version differs from :data:`TESTED`: name -> (tested, installed)."""
    drift = {}
    for name, tested in TESTED.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = "missing"
        if installed != tested:
            drift[name] = (tested, installed)
    return drift


def warn_on_drift() -> None:
    """Log once per process when a library moved away from the tested version."""
    global _warned
    if _warned:
        return
    _warned = True
    for name, (tested, installed) in version_drift().items():
        log.warning("%s %s is installed; Atlas's compatibility overrides were tested with %s "
                    "(see atlas.compat, tests/test_compat.py)", name, installed, tested)


_warned = False

# ----------------------------------------------------------------------------- Soda Core


def soda_disable_samples(scan: Any) -> None:
    """No failed-row sample queries at all (``samples limit`` is only per check in SodaCL)."""
    scan._configuration.samples_limit = 0


def soda_disconnect(scan: Any) -> None:
    """Close every connection the scan opened (3.5.6 leaves them idle in a transaction)."""
    for data_source in scan._data_source_manager.data_sources.values():
        try:
            data_source.disconnect()
        except Exception:  # noqa: BLE001, S112 - already closed or broken; nothing to release
            continue


def soda_telemetry_off(config_file: str) -> None:
    """Make Soda's config and telemetry singletons opt out before any scan is created."""
    from soda.common.config_helper import ConfigHelper
    from soda.telemetry.soda_telemetry import SodaTelemetry

    helper = ConfigHelper.get_instance(config_file)
    helper.config["send_anonymous_usage_stats"] = False  # in memory, whichever file was loaded first
    telemetry = SodaTelemetry.get_instance()
    if getattr(telemetry, "_SodaTelemetry__send", False):  # created earlier by someone else's import
        telemetry._SodaTelemetry__send = False


@dataclass(frozen=True)
class SodaCheck:
    """What Soda itself parsed and measured for one check: its result dict (outcome,
    diagnostics, table, column) and, from its parsed configuration, the kind and threshold."""

    result: dict[str, Any]
    kind: str
    threshold: str | None
    column: str | None


def soda_checks(scan: Any) -> list[SodaCheck]:
    """Every check of an executed scan, evaluated or not (a check whose query failed is here too,
    with the result dict Soda reported for it, or a minimal one when it reported none)."""
    reported = {r.get("identity"): r for r in scan.get_scan_results().get("checks", [])}
    return [_describe(check, reported) for check in scan._checks]


def _describe(check: Any, reported: dict[str, dict[str, Any]]) -> SodaCheck:
    from soda.execution.partition import Partition

    cfg = check.check_cfg
    result = reported.get(check.create_identity(with_datasource=True, with_filename=True)) or {
        "name": check.name, "table": Partition.get_table_name(check.partition), "outcome": None}
    kind = _KINDS.get(type(cfg).__name__) or getattr(cfg, "metric_name", None) or type(cfg).__name__
    column = result.get("column") or getattr(cfg, "column_name", None)
    return SodaCheck(result=result, kind=str(kind), threshold=_threshold(cfg), column=column)


_KINDS = {
    "UserDefinedFailedRowsCheckCfg": "failed rows",
    "UserDefinedFailedRowsExpressionCheckCfg": "failed rows",
    "ReferenceCheckCfg": "reference",
    "SchemaCheckCfg": "schema",
    "FreshnessCheckCfg": "freshness",
    "RowCountComparisonCheckCfg": "row_count comparison",
    "GroupByCheckCfg": "group by",
    "GroupEvolutionCheckCfg": "group evolution",
}


def _duration(age: Any) -> str:
    """A freshness age (timedelta) in SodaCL's notation: ``1d``, ``12h``, ``1d6h``, ``30m``."""
    seconds = int(age.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    return "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n) or "0m"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _zone(threshold: Any) -> str | None:
    """A threshold configuration's condition (Soda stores the zone that fails or warns)."""
    if threshold is None:
        return None
    low = (">", threshold.gt) if threshold.gt is not None else (">=", threshold.gte)
    high = ("<", threshold.lt) if threshold.lt is not None else ("<=", threshold.lte)
    if low[1] is not None and high[1] is not None:
        if threshold.is_split_zone:  # outside [high, low]
            if low[1] == high[1]:
                return f"!= {_number(low[1])}"
            return f"not between {_number(high[1])} and {_number(low[1])}"
        return f"between {_number(low[1])} and {_number(high[1])}"
    op, value = low if low[1] is not None else high
    return f"{op} {_number(value)}" if value is not None else None


_PASS = {"!=": "=", "not between": "between", ">": "<=", ">=": "<", "<": ">=", "<=": ">"}


def _pass_condition(zone: str) -> str:
    """The condition a value must meet, from the zone that fails: '> 0' fails -> '<= 0' passes."""
    for failing, passing in _PASS.items():
        if zone.startswith(failing + " "):
            return passing + zone[len(failing):]
    return zone


def _threshold(cfg: Any) -> str | None:
    """The check's threshold as written: the inline condition ('= 0', 'between 1 and 10'), or its
    'warn when ...; fail when ...' configurations."""
    configured = cfg.source_configurations or {}
    if hasattr(cfg, "fail_freshness_threshold"):
        warn_age, fail_age = cfg.warn_freshness_threshold, cfg.fail_freshness_threshold
        if not warn_age:
            return f"< {_duration(fail_age)}" if fail_age else None
        return "; ".join([f"warn when > {_duration(warn_age)}",
                          *([f"fail when > {_duration(fail_age)}"] if fail_age else [])])
    warn, fail = _zone(getattr(cfg, "warn_threshold_cfg", None)), _zone(getattr(cfg, "fail_threshold_cfg", None))
    if "warn" in configured or "fail" in configured:
        parts = [f"warn when {warn}"] if warn else []
        parts += [f"fail when {fail}"] if fail else []
        return "; ".join(parts) or None
    return _pass_condition(fail) if fail else None
