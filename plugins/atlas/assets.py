"""Airflow Assets for Atlas's layers: the landed files and every warehouse table downstream.

An asset is a scheduling signal, not a location: its event says "this layer of this table is
ready for the logical date". Every event Atlas emits carries the logical date (``YYYY-MM-DD``)
as its partition key and in its extra, so a partitioned consumer (a cross-table gold model)
lines the inputs of one date up, whichever table arrives first. Row-level lineage (which
task wrote what, with schemas and counts) is OpenLineage's job (``atlas.lineage``).

Names are ``<layer>.<table>`` (``silver.orders``), URIs ``atlas://warehouse/<layer>/<table>``
and ``atlas://landing/<table>``: stable across environments, so the asset graph does not
change with the warehouse host or the landing bucket.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SCHEME = "atlas"
LAYERS = ("bronze", "silver", "gold", "ai_ready")


def landing_asset(table: str) -> Any:
    """The files that land for ``table`` (never emitted: files arrive from outside Airflow)."""
    from airflow.sdk import Asset

    return Asset(name=f"landing.{table}", uri=f"{SCHEME}://landing/{table}", group="atlas")


def table_asset(qualified: str) -> Any:
    """The asset of a warehouse table ``<layer>.<table>`` (``silver.orders``, ``gold.customer_360``)."""
    from airflow.sdk import Asset

    layer, _, table = qualified.partition(".")
    if layer not in LAYERS or not table:
        raise ValueError(f"not a layer-qualified table: {qualified!r}")
    return Asset(name=qualified, uri=f"{SCHEME}://warehouse/{layer}/{table}", group="atlas")


def all_of(qualified: Iterable[str]) -> Any:
    """The asset condition "every one of these tables" (``AssetAll``)."""
    from airflow.sdk.definitions.asset import AssetAll

    return AssetAll(*(table_asset(q) for q in qualified))


def record_partition(outlet_events: Any, outlets: Iterable[Any], ds: str, extra: dict[str, Any]) -> None:
    """Attach the logical date as partition key and ``extra`` to the events of ``outlets``."""
    from airflow.sdk import Asset

    for outlet in outlets:
        if isinstance(outlet, Asset):
            event = outlet_events[outlet]
            event.add_partitions(ds)
            event.extra.update({"logical_date": ds, **extra})
