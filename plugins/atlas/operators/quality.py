"""check_quality: Soda Core scans of bronze and silver; fail-severity failures stop the run before gold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atlas.operators.base import AtlasOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class CheckQualityOperator(AtlasOperator):
    """Runs the table's Soda Core checks on the logical date's slice of each layer, stores every
    result and the per-dimension scores in ``atlas_meta``, reports them to OpenLineage as
    data-quality facets, and fails with one error listing every failed fail-severity check of
    all layers (warnings are recorded and logged, never raised).

    :param spec: the table's spec.
    :param layers: the layers to check, in order (default bronze, then silver).
    :param warehouse_conn_id: Airflow connection of the warehouse.
    """

    def __init__(self, *, layers: tuple[str, ...] = ("bronze", "silver"), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.layers = tuple(layers)

    def run(self, context: Context) -> dict[str, Any]:
        from atlas.lineage import bronze_columns, silver_columns
        from atlas.quality.lineage import dataset_facets

        reports = [self.check_layer(context, layer) for layer in self.layers]
        columns = {"bronze": bronze_columns(self.spec), "silver": silver_columns(self.spec)}
        for report in reports:
            self.lineage_inputs.append(self.table_dataset(
                f"{report.layer}.{self.spec.table}", columns.get(report.layer),
                input_facets=dataset_facets(report)))
        summary = {r.layer: {"checks": len(r.results), "failed": [c.name for c in r.failed],
                             "warned": [c.name for c in r.warned], "scores": r.scores, "overall": r.overall}
                   for r in reports}
        for report in reports:
            report.raise_for_failures()
        return summary
