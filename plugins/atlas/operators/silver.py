"""The silver stage: plan partitions, stage each (mapped), publish them in one transaction.

``plan_silver`` cuts the date's bronze slice into row ranges (``silver.partition_rows`` in the
table config); ``stage_silver`` runs once per range (dynamic task mapping: Celery workers share
them), validating, normalizing and protecting it into its own staging tables; ``build_silver``
publishes every partition at once: row rules, dedupe, merge, reconciliation with bronze and the
leak guard over all partitions, then one commit. Its XCom and lineage are the stage's result.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from atlas.operators.base import AtlasOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

PLAN_TASK_ID = "plan_silver"
STAGE_TASK_ID = "stage_silver"
#: ``<table>:<map index>``: that partition's stage task fails once after committing its staging
#: (first try only), to exercise a retry of one partition. Tests and drills only.
FAULT_ENV = "ATLAS_FAULT_STAGE_SILVER"


class PlanSilverOperator(AtlasOperator):
    """Counts the logical date's bronze slice and cuts it into partitions of about
    ``spec.silver.partition_rows`` rows (row ranges in the order bronze keeps them); returns them
    for the mapped stage tasks and drops staging left by earlier builds of the date.

    :param spec: the table's spec (its ``silver`` partitioning).
    :param warehouse_conn_id: Airflow connection of the warehouse.
    """

    def run(self, context: Context) -> list[dict[str, Any]]:
        from atlas.context import logical_ds
        from atlas.silver.build import plan_partitions

        ds = logical_ds(context)
        conn = self.warehouse.get_conn()
        try:
            partitions = plan_partitions(conn, self.spec, ds)
        finally:
            conn.close()
        self.log.info("%s %s: %d bronze rows in %d partition(s) of up to %d rows", self.spec.table, ds,
                      sum(p.rows for p in partitions), len(partitions), self.spec.silver.partition_rows)
        self.lineage_inputs.append(_bronze_dataset(self))
        return [p.as_dict() for p in partitions]


class StageSilverOperator(AtlasOperator):
    """Validates, normalizes and protects one partition of the slice (PII columns as ``detect_pii``
    recorded them, known values of the whole slice redacted in free text) into the partition's
    own staging tables, in one transaction that replaces what an earlier try staged. Records the
    leak guard's keyed fingerprints for ``build_silver``. Mapped: one task per partition.

    :param spec: the table's spec (columns, rules and PII policy).
    :param partition: one partition as ``plan_silver`` returned it (index and row range).
    :param warehouse_conn_id: Airflow connection of the warehouse.
    """

    def __init__(self, *, partition: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.partition = partition

    def run(self, context: Context) -> dict[str, Any]:
        from atlas.context import logical_ds
        from atlas.operators.guards import structured_pii_columns
        from atlas.pii import load_keys, slice_protector
        from atlas.silver.build import Partition, Staging, stage_partition
        from atlas.silver.staged_guard import StagedLeakRecorder, guard_key
        from atlas.warehouse.pii_findings import load_findings

        ds, run_id = logical_ds(context), context["run_id"]
        partition = Partition.from_dict(self.partition or {"index": 0})
        keys = load_keys()
        conn = self.warehouse.get_conn()
        try:
            findings = load_findings(conn, self.spec.table, ds)
            # the guard's fingerprints go to the partition's staging; build_silver checks all partitions
            recorder = StagedLeakRecorder(conn, Staging(self.spec.table, ds, partition.index).guard,
                                          guard_key(keys.hmac_key, self.spec.table, ds, run_id),
                                          f"bronze.{self.spec.table}", structured_pii_columns(findings),
                                          ignore=self.spec.table_schema.column_names)
            # known values of the whole slice redacted in free text; scan workers joined when the block ends
            with slice_protector(conn, self.spec.pii, self.spec.table, findings, ds, keys) as protector:
                result = stage_partition(conn, self.spec, protector.protect, run_id, ds, partition, guard=recorder)
        finally:
            conn.close()
        self._injected_fault(context)
        self.lineage_inputs.append(_bronze_dataset(self))
        self.log.info("partition %d: %d rows staged, %d quarantined; leak guard: %d fingerprints in %.2fs",
                      result.index, result.staged_rows, result.quarantined_rows, recorder.values, recorder.seconds)
        return {**result.summary(), "protected": protector.strategies, "pii_scan": protector.summary()}

    def _injected_fault(self, context: Context) -> None:
        from atlas.errors import AtlasTransientError

        ti = context["ti"]
        if os.environ.get(FAULT_ENV) == f"{self.spec.table}:{ti.map_index}" and ti.try_number == 1:
            raise AtlasTransientError(f"{FAULT_ENV}: injected failure of partition {ti.map_index} after staging")


def _bronze_dataset(operator: AtlasOperator) -> Any:
    from atlas.lineage import bronze_columns

    return operator.table_dataset(f"bronze.{operator.spec.table}", bronze_columns(operator.spec))


def _scan_totals(summaries: list[dict[str, int]]) -> dict[str, int]:
    """The partitions' PII scan counts added up (worker and dictionary sizes: the largest)."""
    totals: dict[str, int] = {}
    for summary in summaries:
        for name, value in summary.items():
            largest = name in ("workers", "known_values")
            totals[name] = max(totals.get(name, 0), value) if largest else totals.get(name, 0) + value
    return totals


class BuildSilverOperator(AtlasOperator):
    """Publishes the logical date's staged partitions in one transaction: rows rejected by
    validation into ``quarantine.<table>``, row rules, dedupe on the primary key across all
    partitions, merge into ``silver.<table>``, reconciliation with the bronze count and the leak
    guard over every partition's fingerprints, then one commit; a leak leaves the previous silver
    in place. Its XCom and lineage are the silver stage's.

    :param spec: the table's spec (columns, rules, keys and PII policy).
    :param warehouse_conn_id: Airflow connection of the warehouse.
    """

    def run(self, context: Context) -> dict[str, Any]:
        from atlas.context import logical_ds
        from atlas.lineage import column_lineage, silver_columns
        from atlas.silver.build import Staging, publish_partitions
        from atlas.silver.staged_guard import StagedLeakCheck

        ds, ti = logical_ds(context), context["ti"]
        partitions = ti.xcom_pull(task_ids=PLAN_TASK_ID) or [{"index": 0}]
        staged = ti.xcom_pull(task_ids=STAGE_TASK_ID, map_indexes=list(range(len(partitions))))
        conn = self.warehouse.get_conn()
        try:
            check = StagedLeakCheck(conn, [Staging(self.spec.table, ds, i).guard for i in range(len(partitions))])
            result = publish_partitions(conn, self.spec, context["run_id"], ds, len(partitions), guard=check)
        finally:
            conn.close()
        self.log.info("bronze %d = silver %d + quarantined %d + duplicates %d + superseded %d (%d partitions)",
                      result.bronze_rows, result.silver_rows, result.quarantined_rows,
                      result.duplicates_removed, result.superseded_rows, len(partitions))
        for reason, count in result.reasons.items():
            self.log.info("quarantined %6d  %s", count, reason)
        staged = [s for s in staged if s]
        strategies = staged[0]["protected"] if staged else {}
        bronze = f"bronze.{self.spec.table}"
        self.lineage_inputs.append(_bronze_dataset(self))
        lineage = column_lineage(self.warehouse.lineage_namespace(), self.warehouse.lineage_name(bronze),
                                 self.spec.table_schema.column_names, strategies)
        self.lineage_outputs.append(self.table_dataset(
            f"silver.{self.spec.table}", silver_columns(self.spec), output=True,
            facets={"columnLineage": lineage}, rows=result.silver_rows))
        return {**result.summary(), "partitions": len(partitions), "protected": strategies,
                "pii_scan": _scan_totals([s["pii_scan"] for s in staged])}
