"""detect_pii: classify every bronze column with Presidio; audit findings (never values)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atlas.operators.base import AtlasOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class DetectPiiOperator(AtlasOperator):
    """Classifies every column of the logical date's bronze slice with Presidio, from a
    deterministic sample spread over the whole slice and the column names, and records the
    findings (kind, entity types, hit rate, strategy, where the policy came from; never values)
    in ``atlas_meta.pii_findings`` for ``build_silver`` to protect by.

    :param spec: the table's spec (its ``pii`` policy and sample size).
    :param warehouse_conn_id: Airflow connection of the warehouse.
    """

    def run(self, context: Context) -> dict[str, Any]:
        from atlas.context import logical_ds
        from atlas.lineage import bronze_columns
        from atlas.pii import classify_columns
        from atlas.warehouse.pii_findings import sample_bronze, store_findings

        ds = logical_ds(context)
        conn = self.warehouse.get_conn()
        try:
            samples = sample_bronze(conn, self.spec, ds, self.spec.pii.sample_size)
            findings = classify_columns(self.spec.table, samples, self.spec.pii)
            store_findings(conn, self.spec.table, findings, context["run_id"], ds)
        finally:
            conn.close()
        protected = {f.column: f.strategy for f in findings if f.strategy != "keep" or f.policy_source == "config"}
        for f in findings:
            if f.kind != "none":
                self.log.info("%-18s %-10s %-40s hit rate %.2f -> %s (%s)", f.column, f.kind,
                              ",".join(f.entity_types), f.hit_rate, f.strategy, f.policy_source)
        self.lineage_inputs.append(self.table_dataset(f"bronze.{self.spec.table}", bronze_columns(self.spec)))
        return {"rows_scanned": max((f.rows_scanned for f in findings), default=0),
                "pii_columns": sorted(c for c, s in protected.items() if s != "keep"), "strategies": protected}
