"""check_quality: Soda Core scan of silver.<table>; fail-severity failures stop the run before gold."""

from __future__ import annotations

from typing import Any

from atlas.operators.base import AtlasOperator


class CheckQualityOperator(AtlasOperator):
    def __init__(self, *, layer: str = "silver", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.layer = layer

    def run(self, context: Any) -> dict[str, Any]:
        from atlas.context import logical_ds
        from atlas.lineage import silver_columns
        from atlas.quality import run_quality

        ds = logical_ds(context)
        report = run_quality(self.warehouse.dsn, self.spec, self.layer, context["run_id"], ds)
        self.log.info("quality of %s.%s for %s:\n%s", self.layer, self.spec.table, ds, report.format_table())
        facets = {}
        try:
            from atlas.quality.lineage import dataset_facets

            facets = dataset_facets(report)
        except ImportError:
            pass
        self.lineage_inputs.append(self.table_dataset(f"{self.layer}.{self.spec.table}",
                                                      silver_columns(self.spec), facets=facets))
        summary = {"checks": len(report.results), "failed": [r.name for r in report.failed],
                   "warned": [r.name for r in report.warned], "scores": report.scores, "overall": report.overall}
        context["ti"].xcom_push(key="quality", value=summary)
        report.raise_for_failures()
        return summary
