"""The day document: everything the page shows for one table and logical date (the JSON API's body)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from atlas.config import TableSpec
from atlas.dashboard import queries
from atlas.dashboard.params import SECTIONS

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

MARQUEZ_URL_ENV = "ATLAS_MARQUEZ_URL"
LINEAGE_JOB_TASK = "build_silver"  # its graph reaches from the landed file to gold and AI-ready


def lineage_link(spec: TableSpec) -> dict[str, Any]:
    """The table's job in Marquez's lineage view, when ``ATLAS_MARQUEZ_URL`` names Marquez's web UI."""
    base = os.environ.get(MARQUEZ_URL_ENV, "").strip().rstrip("/")
    namespace = os.environ.get("AIRFLOW__OPENLINEAGE__NAMESPACE") or _openlineage_namespace()
    job = f"{spec.dag_id}.{LINEAGE_JOB_TASK}"
    url = f"{base}/lineage/job/{quote(namespace, safe='')}/{quote(job, safe='')}" \
        if base.startswith(("http://", "https://")) else None
    return {"marquez_url": url, "namespace": namespace, "job": job, "configured_by": MARQUEZ_URL_ENV}


def _openlineage_namespace() -> str:
    try:
        from airflow.configuration import conf

        return conf.get("openlineage", "namespace", fallback="default") or "default"
    except ImportError:  # pragma: no cover - Airflow is always there in the api-server
        return "default"


def resolve_date(conn: PgConnection, spec: TableSpec, ds: str | None) -> tuple[str, list[str]]:
    """``ds``, or the latest date with data (today, UTC, when there is none); and the dates with data."""
    dates = queries.dates_with_data(conn, spec.table)
    if ds:
        return ds, dates
    return (dates[0] if dates else datetime.now(UTC).date().isoformat()), dates


def day_report(conn: PgConnection, session: Any, spec: TableSpec, ds: str | None, days: int,
               sections: Iterable[str] = SECTIONS) -> dict[str, Any]:
    """The document for ``spec``'s table on ``ds`` (None: the latest date with data).

    ``conn`` is a warehouse connection (one snapshot for every section), ``session`` a session on
    Airflow's metadata database (only used for ``runs``).
    """
    wanted = set(sections)
    ds, dates = resolve_date(conn, spec, ds)
    doc: dict[str, Any] = {"table": spec.table, "dag_id": spec.dag_id, "description": spec.description.strip(),
                           "owner": spec.owner, "logical_date": ds, "dates": dates}
    if "runs" in wanted:
        from atlas.dashboard.runs import dag_runs

        doc["runs"] = dag_runs(session, spec.dag_id, ds, queries.recorded_run_ids(conn, spec, ds))
    if "layers" in wanted:
        doc["layers"] = queries.layers(conn, spec.table, ds)
    if "quarantine" in wanted:
        doc["quarantine"] = queries.quarantine(conn, spec.table, ds)
    if "pii" in wanted:
        doc["pii"] = queries.pii(conn, spec, ds)
    if "quality" in wanted:
        doc["quality"] = queries.quality(conn, spec, ds, days)
    if "outputs" in wanted:
        doc["outputs"] = queries.outputs(conn, spec, ds)
    if "lineage" in wanted:
        doc["lineage"] = lineage_link(spec)
    return doc
