"""Small helpers over the Airflow task context."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "", "none"})


def logical_ds(context: Mapping[str, Any]) -> str:
    """The run's date as YYYY-MM-DD: the partition key of a partitioned run (an asset-triggered
    cross-table model), else the logical date, else run_after for runs triggered without one."""
    if key := context.get("partition_key"):
        return partition_ds(key)
    moment = context.get("logical_date") or context["dag_run"].run_after
    return moment.strftime("%Y-%m-%d")


def fill_run_dates(context: MutableMapping[str, Any]) -> None:
    """Give runs triggered without a logical date ``ds``/``ds_nodash`` (from ``run_after``), so
    templates such as ``customers/{{ ds }}/*.csv`` render the same way for every run."""
    if not context.get("ds"):
        ds = logical_ds(context)
        context["ds"], context["ds_nodash"] = ds, ds.replace("-", "")


def partition_ds(key: str) -> str:
    """A partition key that must be a date (YYYY-MM-DD); AtlasInputError otherwise (keys are user input)."""
    from datetime import date

    from atlas.errors import AtlasInputError

    try:
        if len(key) == 10:
            return date.fromisoformat(key).isoformat()
    except ValueError:
        pass
    raise AtlasInputError("the run's partition key must be a date (YYYY-MM-DD)")


class RunDateTemplating:
    """Operator mixin: :func:`fill_run_dates` before Airflow renders the template fields."""

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None) -> None:
        fill_run_dates(context)
        super().render_template_fields(context, jinja_env)  # type: ignore[misc]


def as_bool(value: object, name: str) -> bool:
    """A templated boolean argument (rendered as text, e.g. ``"True"``) as a bool."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    from atlas.errors import AtlasInputError
    from atlas.sources import shown

    raise AtlasInputError(f"param {name} must be a boolean, got {shown(value)}")
