"""build_silver: validate, normalize, protect PII, dedupe and swap in silver.<table>."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atlas.operators.base import AtlasOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class BuildSilverOperator(AtlasOperator):
    """Builds the logical date's slice of ``silver.<table>`` from bronze in one transaction:
    validates and normalizes each row, protects the PII columns ``detect_pii`` recorded (known
    values of the slice redacted in free text too), removes duplicates and merges the slice in;
    rows breaking the rules go to ``quarantine.<table>`` with the reason. The leak guard sees
    every chunk and runs before the commit, so a leak leaves the previous silver in place.

    :param spec: the table's spec (columns, rules, keys and PII policy).
    :param warehouse_conn_id: Airflow connection of the warehouse.
    """

    def run(self, context: Context) -> dict[str, Any]:
        from atlas.context import logical_ds
        from atlas.lineage import bronze_columns, column_lineage, silver_columns
        from atlas.operators.guards import slice_guard
        from atlas.pii import load_keys, slice_protector
        from atlas.silver.build import build_silver
        from atlas.warehouse.pii_findings import load_findings

        ds = logical_ds(context)
        conn = self.warehouse.get_conn()
        try:
            findings = load_findings(conn, self.spec.table, ds)
            # Known values of the slice redacted in free text; scan workers joined when the block ends.
            with slice_protector(conn, self.spec.pii, self.spec.table, findings, ds, load_keys()) as protector:
                # the leak guard sees every chunk's raw rows and protected output, and runs before commit
                result = build_silver(conn, self.spec, protector.protect, context["run_id"], ds,
                                      guard=slice_guard(self.spec, findings))
        finally:
            conn.close()
        self.log.info("bronze %d = silver %d + quarantined %d + duplicates %d + superseded %d",
                      result.bronze_rows, result.silver_rows, result.quarantined_rows,
                      result.duplicates_removed, result.superseded_rows)
        for reason, count in result.reasons.items():
            self.log.info("quarantined %6d  %s", count, reason)
        bronze = f"bronze.{self.spec.table}"
        self.lineage_inputs.append(self.table_dataset(bronze, bronze_columns(self.spec)))
        lineage = column_lineage(self.warehouse.lineage_namespace(), self.warehouse.lineage_name(bronze),
                                 self.spec.table_schema.column_names, protector.strategies)
        self.lineage_outputs.append(self.table_dataset(
            f"silver.{self.spec.table}", silver_columns(self.spec), output=True,
            facets={"columnLineage": lineage}, rows=result.silver_rows))
        return {**result.summary(), "protected": protector.strategies, "pii_scan": protector.summary()}
