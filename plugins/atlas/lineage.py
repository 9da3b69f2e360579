"""OpenLineage datasets and facets for Atlas operators (schema, column lineage, statistics)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from atlas.config import TableSpec
from atlas.warehouse.tables import BRONZE_META, SILVER_META, silver_types


def schema_facet(columns: Mapping[str, str]) -> Any:
    from openlineage.client.generated.schema_dataset import SchemaDatasetFacet, SchemaDatasetFacetFields

    return SchemaDatasetFacet(fields=[SchemaDatasetFacetFields(name=n, type=t) for n, t in columns.items()])


def dataset(namespace: str, name: str, facets: Mapping[str, Any] | None = None, output: bool = False) -> Any:
    from openlineage.client.event_v2 import InputDataset, OutputDataset

    cls = OutputDataset if output else InputDataset
    return cls(namespace=namespace, name=name, facets=dict(facets or {}))


def bronze_columns(spec: TableSpec) -> dict[str, str]:
    cols = {c: "text" for c in spec.table_schema.column_names}
    cols.update({name: sql.split()[0] for name, sql in BRONZE_META})
    return cols


def silver_columns(spec: TableSpec) -> dict[str, str]:
    cols = dict(silver_types(spec))
    cols.update({name: sql.split()[0] for name, sql in SILVER_META})
    return cols


def column_lineage(source_namespace: str, source_name: str, columns: Sequence[str],
                   protected: Mapping[str, str]) -> Any:
    """Each silver column from its bronze column; protected columns are marked as masking."""
    from openlineage.client.generated.column_lineage_dataset import (
        ColumnLineageDatasetFacet,
        Fields,
        InputField,
        Transformation,
    )

    fields = {}
    for column in columns:
        strategy = protected.get(column)
        transformation = Transformation(
            type="DIRECT",
            subtype="TRANSFORMATION" if strategy else "IDENTITY",
            description=f"PII protected: {strategy}" if strategy else "validated and cast",
            masking=bool(strategy and strategy != "keep"),
        )
        fields[column] = Fields(inputFields=[InputField(namespace=source_namespace, name=source_name,
                                                        field=column, transformations=[transformation])])
    return ColumnLineageDatasetFacet(fields=fields)


def output_statistics(rows: int) -> Any:
    from openlineage.client.generated.output_statistics_output_dataset import (
        OutputStatisticsOutputDatasetFacet,
    )

    return OutputStatisticsOutputDatasetFacet(rowCount=rows)
