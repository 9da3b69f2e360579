"""Small helpers over the Airflow task context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def logical_ds(context: Mapping[str, Any]) -> str:
    """The run's date as YYYY-MM-DD: logical date, or run_after for runs triggered without one."""
    moment = context.get("logical_date") or context["dag_run"].run_after
    return moment.strftime("%Y-%m-%d")


def render_source_path(path: str, ds: str) -> str:
    """Render ``{{ ds }}`` / ``{{ ds_nodash }}`` in a configured landing path."""
    import jinja2

    return jinja2.Environment(autoescape=False).from_string(path).render(  # noqa: S701 - paths, not HTML
        ds=ds, ds_nodash=ds.replace("-", ""))


def source_pattern(context: Mapping[str, Any], configured: str, ds: str) -> str:
    """The file(s) to ingest: the run's ``source_file`` param if given, else the configured glob."""
    override = (context.get("params") or {}).get("source_file") or ""
    return render_source_path(override or configured, ds)
