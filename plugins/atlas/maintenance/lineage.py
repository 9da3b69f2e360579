"""OpenLineage for retention: each purged table or lake folder as an output with an ``atlas_purge`` facet.

The facet's schema is ``docs/lineage/AtlasPurgeOutputDatasetFacet.json``; it carries counts and
dates only.
"""

from __future__ import annotations

from typing import Any

import attr
from openlineage.client.generated.base import OutputDatasetFacet

from atlas.retention import Purge

SCHEMA_URL = "https://atlas.example.com/spec/facets/1-0-0/AtlasPurgeOutputDatasetFacet.json"
FACET_NAME = "atlas_purge"


@attr.define
class AtlasPurgeOutputDatasetFacet(OutputDatasetFacet):
    """What a retention run deleted from one dataset."""

    layer: str  # field names below are camelCase, as OpenLineage facets have them
    retentionDays: int
    cutoffDate: str
    datesPurged: int
    firstDate: str | None
    lastDate: str | None
    rowsDeleted: int
    filesDeleted: int

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA_URL + "#/$defs/AtlasPurgeOutputDatasetFacet"


def purge_facet(purge: Purge) -> AtlasPurgeOutputDatasetFacet:
    return AtlasPurgeOutputDatasetFacet(
        layer=purge.layer, retentionDays=purge.retention_days, cutoffDate=purge.cutoff,
        datesPurged=len(purge.dates), firstDate=purge.dates[0] if purge.dates else None,
        lastDate=purge.dates[-1] if purge.dates else None, rowsDeleted=purge.rows, filesDeleted=purge.files)


def purge_outputs(purge: Purge, warehouse: Any) -> list[Any]:
    """One OutputDataset per object the purge touched (warehouse table or lake folder)."""
    from openlineage.client.event_v2 import OutputDataset

    from atlas import storage
    from atlas.ai_ready.lake import lake_path

    outputs = []
    for name in purge.objects:
        if "://" in name:
            namespace, dataset = storage.lineage_namespace(lake_path(name))
        else:
            namespace, dataset = warehouse.lineage_namespace(), warehouse.lineage_name(name)
        outputs.append(OutputDataset(namespace=namespace, name=dataset, facets={},
                                     outputFacets={FACET_NAME: purge_facet(purge)}))
    return outputs
