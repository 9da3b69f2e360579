"""Run a SodaCL document in-process against one warehouse schema, offline."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import yaml

from atlas import compat
from atlas.compat import SodaCheck
from atlas.quality import offline

DATA_SOURCE = "atlas_warehouse"
MAX_ERRORS = 5
# Follow-up errors: the check is reported as 'error' anyway; the query error above says why.
NOT_COMPUTED = re.compile(r"^Metrics .* were not computed for check ")


@dataclass
class ScanOutput:
    """Soda's checks (result dicts with outcome and diagnostics, no rows; kind, threshold and column
    from Soda's own parse) and sanitized error messages."""

    checks: list[SodaCheck]
    errors: list[str] = field(default_factory=list)


def data_source_yaml(dsn: str, schema: str) -> str:
    """Soda's data source configuration for the warehouse DSN, scoped to ``schema``."""
    from psycopg2.extensions import parse_dsn

    from atlas.warehouse import conn_params

    params = conn_params(dsn)
    extra = parse_dsn(dsn)
    source: dict[str, Any] = {
        "type": "postgres",
        "host": params["host"],
        "port": params["port"],
        "username": params["user"],
        "password": params["password"] or "",
        "database": params["dbname"],
        "schema": schema,
        "sampler": {"disable_samples": True},
    }
    if "sslmode" in extra:
        source["sslmode"] = extra["sslmode"]
    if "connect_timeout" in extra:
        source["connection_timeout"] = int(extra["connect_timeout"])
    return yaml.safe_dump({f"data_source {DATA_SOURCE}": source}, sort_keys=False)


def scan_variables(logical_date: date, run_id: str, schemas: dict[str, str]) -> dict[str, str]:
    """Variables for SodaCL: ``${logical_date}`` selects the day's slice, ``${NOW}`` (freshness) is
    the end of that day in UTC, ``${silver_schema}`` etc. name each layer's schema."""
    end = datetime.combine(logical_date + timedelta(days=1), time.min, tzinfo=UTC)
    names = {f"{layer}_schema": schema for layer, schema in schemas.items()}
    return {"logical_date": logical_date.isoformat(), "run_id": run_id, "NOW": end.isoformat(), **names}


def run_scan(
    dsn: str, schema: str, sodacl: str, variables: dict[str, str], identifiers: set[str] | None = None
) -> ScanOutput:
    """Execute ``sodacl`` on ``schema``: no telemetry, no samples, Soda's own logs silenced."""
    compat.warn_on_drift()
    with offline.quiet_soda_logs():
        offline.disable_telemetry()
        from soda.scan import Scan

        scan = Scan()
    scan.disable_telemetry()
    scan.set_data_source_name(DATA_SOURCE)
    scan.add_configuration_yaml_str(data_source_yaml(dsn, schema))
    scan.sampler = offline.count_only_sampler()
    compat.soda_disable_samples(scan)  # skip failed-row queries; hand-written limits still hit the sampler
    scan.add_variables(variables)
    scan.add_sodacl_yaml_str(sodacl, file_name="atlas_checks.yml")
    try:
        with offline.quiet_soda_logs():
            scan.execute()
    finally:
        compat.soda_disconnect(scan)
    known = set(identifiers or ()) | {schema}
    messages = [log.message for log in scan.get_error_logs() if not NOT_COMPUTED.match(log.message)]
    errors = list(dict.fromkeys(offline.sanitize(m, known) for m in messages))
    if len(errors) > MAX_ERRORS:
        errors = [*errors[:MAX_ERRORS], f"... and {len(errors) - MAX_ERRORS} more"]
    return ScanOutput(checks=compat.soda_checks(scan), errors=errors)
