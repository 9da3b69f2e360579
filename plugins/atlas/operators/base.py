"""Base class of the Atlas stage operators: error policy, warehouse access, lineage."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from atlas.config import TableSpec
from atlas.settings import WAREHOUSE_CONN_ID

if TYPE_CHECKING:
    from airflow.sdk import Context

    from atlas.hooks.warehouse import WarehouseHook


class AtlasOperator(BaseOperator):
    """Base of the Atlas stage operators: runs ``run(context)`` with a warehouse hook, collects
    the OpenLineage inputs and outputs the stage appends, and on success tags the task's asset
    events with the logical date as partition key.

    Driver errors are re-raised as :class:`AtlasDatabaseError` without their message (it can
    quote row values); whether to retry is the retry policy's decision.

    :param spec: the table's spec (``None`` for an operator not bound to one table).
    :param warehouse_conn_id: Airflow connection of the warehouse; the embedded PostgreSQL when
        the connection is not configured.
    :param kwargs: passed on to :class:`~airflow.sdk.BaseOperator`.
    """

    ui_color = "#dbeafe"

    def __init__(self, *, spec: TableSpec, warehouse_conn_id: str = WAREHOUSE_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.warehouse_conn_id = warehouse_conn_id
        self.lineage_inputs: list[Any] = []
        self.lineage_outputs: list[Any] = []

    @cached_property
    def warehouse(self) -> WarehouseHook:
        """The warehouse hook, created on first use (not at DAG parse time)."""
        from atlas.hooks.warehouse import WarehouseHook

        return WarehouseHook(warehouse_conn_id=self.warehouse_conn_id)

    def run(self, context: Context) -> Any:
        raise NotImplementedError

    def execute(self, context: Context) -> Any:
        import psycopg2

        from atlas.errors import AtlasDatabaseError

        try:
            result = self.run(context)
        except psycopg2.Error as exc:  # message hygiene only: the retry policy decides what happens
            raise AtlasDatabaseError.from_driver(exc) from None
        self.record_asset_events(context)
        return result

    def record_asset_events(self, context: Context) -> None:
        """Tag this task's asset events (one per outlet, emitted by Airflow on success) with the
        logical date as partition key, so partitioned consumers line dates up."""
        if self.outlets:
            from atlas.assets import record_partition
            from atlas.context import logical_ds

            record_partition(context["outlet_events"], self.outlets, logical_ds(context),
                             {"run_id": context["run_id"]})

    # ---------------------------------------------------------------- lineage helpers
    def table_dataset(self, qualified: str, columns: dict[str, str] | None = None, output: bool = False,
                      facets: dict[str, Any] | None = None, rows: int | None = None,
                      input_facets: dict[str, Any] | None = None) -> Any:
        """An OpenLineage dataset for a warehouse table: a schema facet (``columns``, else the table's
        catalog columns), input/output facets (e.g. data quality) in their own section, a row count."""
        from openlineage.client.event_v2 import InputDataset, OutputDataset
        from openlineage.client.generated.base import InputDatasetFacet, OutputDatasetFacet

        from atlas.lineage import output_statistics, schema_facet

        given = {**(facets or {}), **(input_facets or {})}
        columns = columns or self.catalog_columns(qualified)
        if columns:
            given["schema"] = schema_facet(columns)
        run_kind = OutputDatasetFacet if output else InputDatasetFacet
        dataset_facets = {k: v for k, v in given.items() if not isinstance(v, InputDatasetFacet | OutputDatasetFacet)}
        run_facets = {k: v for k, v in given.items() if isinstance(v, run_kind)}
        namespace, name = self.warehouse.lineage_namespace(), self.warehouse.lineage_name(qualified)
        if output:
            if rows is not None:
                run_facets["outputStatistics"] = output_statistics(rows)
            return OutputDataset(namespace=namespace, name=name, facets=dataset_facets, outputFacets=run_facets)
        return InputDataset(namespace=namespace, name=name, facets=dataset_facets, inputFacets=run_facets)

    def catalog_columns(self, qualified: str) -> dict[str, str]:
        """Column names and types of a warehouse table from its catalog (empty if it cannot be read)."""
        import psycopg2

        from atlas.warehouse import connect

        schema, _, table = qualified.partition(".")
        try:
            conn = connect(self.warehouse.dsn)
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT column_name, data_type FROM information_schema.columns "
                                "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                                (schema, table))
                    return dict(cur.fetchall())
            finally:
                conn.close()
        except psycopg2.Error:
            return {}

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        from airflow.providers.openlineage.extractors import OperatorLineage

        return OperatorLineage(inputs=self.lineage_inputs, outputs=self.lineage_outputs)

    def check_layer(self, context: Context, layer: str, spec: TableSpec | None = None) -> Any:
        """Run and store the layer's Soda checks (of ``spec``, default the operator's); log the
        outcome table; return the report."""
        from atlas.context import logical_ds
        from atlas.quality import run_quality

        ds = logical_ds(context)
        spec = spec or self.spec
        report = run_quality(self.warehouse.dsn, spec, layer, context["run_id"], ds)
        self.log.info("quality of %s for %s (%s):\n%s", spec.table, ds, layer, report.format_table())
        return report
