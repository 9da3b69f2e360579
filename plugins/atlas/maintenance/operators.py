"""Thin operators over ``atlas.retention`` and ``atlas.erasure``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atlas.operators.base import AtlasOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class PurgeExpiredOperator(AtlasOperator):
    """Delete one table's slices older than its retention periods, layer by layer.

    Each layer commits with its ``atlas_meta.retention_purges`` row; every purged table or lake
    folder is an OpenLineage output with an ``atlas_purge`` facet (counts and dates).

    :param spec: the table's spec (its ``retention`` periods).
    :param warehouse_conn_id: Airflow connection of the warehouse.
    """

    ui_color = "#fee2e2"

    def run(self, context: Context) -> dict[str, Any]:
        from atlas import storage
        from atlas.context import logical_ds
        from atlas.maintenance.lineage import purge_outputs
        from atlas.retention import purge_table

        ds = logical_ds(context)
        conn = self.warehouse.get_conn()
        try:
            purges = purge_table(conn, self.spec, ds, context["run_id"], storage.lake_root())
        finally:
            conn.close()
        for purge in purges:
            if purge.changed:
                self.lineage_outputs.extend(purge_outputs(purge, self.warehouse))
        return {"table": self.spec.table, "logical_date": ds, "layers": [p.summary() for p in purges]}


class EraseSubjectOperator(AtlasOperator):
    """Carry out the run's erasure request (params ``table``, ``key_column``, ``key_value``).

    The params are read as plain values from the run's context, never rendered; the request is
    validated again here (a run created without the DAG's param schema cannot skip it). Not
    bound to one table: ``spec`` is None. Returns counts and the subject's pseudonym only.

    :param warehouse_conn_id: Airflow connection of the warehouse.
    :param kwargs: passed on to :class:`~atlas.operators.base.AtlasOperator` (no ``spec``).
    """

    ui_color = "#fde68a"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(spec=None, **kwargs)  # type: ignore[arg-type]

    def run(self, context: Context) -> dict[str, Any]:
        from atlas import settings, storage
        from atlas.config import load_valid_specs
        from atlas.erasure import erase, validate_request
        from atlas.pii import load_keys

        params = context.get("params") or {}
        specs = load_valid_specs(settings.tables_dir())
        request = validate_request(specs, params.get("table"), params.get("key_column"), params.get("key_value"))
        dag_run = context["dag_run"]
        conn = self.warehouse.get_conn()
        try:
            report = erase(conn, specs, request, hmac_key=load_keys().hmac_key, lake_root=storage.lake_root(),
                           landing_root=storage.landing_root(), request_id=context["run_id"],
                           requested_by=f"airflow:{dag_run.dag_id}", requested_at=dag_run.run_after)
        finally:
            conn.close()
        self.log.info("%s", report.message)
        return report.summary()
