"""OpenLineage data-quality facets from a QualityReport (assertions and column metrics, no values)."""

from __future__ import annotations

from typing import Any

from atlas.quality.model import CheckResult, QualityReport

ASSERTION = {
    "missing_count": "not_null",
    "duplicate_count": "unique",
    "row_count": "row_count",
    "freshness": "freshness",
    "schema": "schema",
    "invalid_count": "valid_values",
    "reference": "relationships",
}


def dataset_facets(report: QualityReport, table: str | None = None) -> dict[str, Any]:
    """``dataQualityAssertions`` and ``dataQualityMetrics`` for one checked table (default: the
    report's table, or its only dataset). Both are OpenLineage input-dataset facets."""
    by_table = facets_by_table(report)
    if table is None:
        table = next(iter(by_table)) if len(by_table) == 1 else report.table
    return by_table.get(table, {})


def facets_by_table(report: QualityReport) -> dict[str, dict[str, Any]]:
    """The quality facets of every table in the report (gold reports cover several models)."""
    from openlineage.client.generated.data_quality_assertions_dataset import (
        Assertion,
        DataQualityAssertionsDatasetFacet,
    )
    from openlineage.client.generated.data_quality_metrics_input_dataset import (
        ColumnMetrics,
        DataQualityMetricsInputDatasetFacet,
    )

    facets: dict[str, dict[str, Any]] = {}
    for table in dict.fromkeys(r.table for r in report.results):
        results = [r for r in report.results if r.table == table]
        assertions = [
            Assertion(
                assertion=ASSERTION.get(r.kind or "", "custom_sql"),
                success=r.passed,
                column=r.column,
                severity="error" if r.severity == "fail" else "warn",
                name=r.name,
                description=f"{r.dimension} check ({r.layer})",
                expected=r.threshold,
                actual=None if r.measured_value is None else _number(r.measured_value),
                params={"dimension": r.dimension, "outcome": r.outcome},
            )
            for r in results
        ]
        facets[table] = {
            "dataQualityAssertions": DataQualityAssertionsDatasetFacet(assertions=assertions),
            "dataQualityMetrics": DataQualityMetricsInputDatasetFacet(
                columnMetrics={
                    r.column: ColumnMetrics(nullCount=int(r.measured_value))
                    for r in results
                    if r.kind == "missing_count" and r.column and r.measured_value is not None
                },
                rowCount=_row_count(results),
            ),
        }
    return facets


def input_datasets(report: QualityReport, namespace: str, database: str, schema: str | None = None) -> list[Any]:
    """OpenLineage InputDatasets named ``database.schema.table`` carrying the quality facets."""
    from openlineage.client.event_v2 import InputDataset

    return [
        InputDataset(namespace=namespace, name=f"{database}.{schema or report.layer}.{table}", inputFacets=facets)
        for table, facets in facets_by_table(report).items()
    ]


ROW_COUNT_KINDS = ("row_count", "rows_loaded")  # rows_loaded: silver's slice + superseded rows


def _row_count(results: list[CheckResult]) -> int | None:
    counts = [r.measured_value for r in results
              if r.kind in ROW_COUNT_KINDS and r.measured_value is not None]
    return int(counts[0]) if counts else None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
