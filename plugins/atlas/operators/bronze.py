"""ingest_bronze: archive landed files raw and load them as text into bronze.<table>."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atlas.context import RunDateTemplating
from atlas.operators.base import AtlasOperator

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath


class IngestBronzeOperator(RunDateTemplating, AtlasOperator):
    """Archives each landed file unchanged in the lake and loads its rows as text into
    ``bronze.<table>``, replacing the logical date's slice in one transaction; malformed rows
    go to ``quarantine.<table>`` with the reason.

    The files are exactly those the sensor found (its XCom), so a file landing in between is
    left to the next run, and lineage and ingest agree.

    :param spec: the table's spec.
    :param sensor_task_id: the upstream sensor whose XCom lists the files; ``None`` resolves the
        configured path here (a DAG without a sensor).
    :param full_refresh: re-ingest a file already ingested for another date (templated, normally
        ``{{ params.full_refresh }}``).
    """

    template_fields = ("full_refresh",)

    def __init__(self, *, sensor_task_id: str | None = "wait_for_source", full_refresh: bool | str = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sensor_task_id = sensor_task_id
        self.full_refresh = full_refresh

    def landed_files(self, context: Context) -> list[ObjectStoragePath]:
        """The sensor's files for this run, checked against the landing root again."""
        from atlas import storage
        from atlas.errors import AtlasInputError
        from atlas.sensors.landing import find_sources

        if self.sensor_task_id is None:
            return find_sources(self.spec, self.spec.source.path, "")
        urls = context["ti"].xcom_pull(task_ids=self.sensor_task_id)
        if not urls:
            raise AtlasInputError(f"{self.sensor_task_id} pushed no landed files for this run; "
                                  "clear it together with ingest_bronze")
        return storage.landed_paths(list(urls), self.spec.source.allowed_roots)

    def run(self, context: Context) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowSkipException

        from atlas import storage
        from atlas.bronze.ingest import ingest
        from atlas.context import as_bool, logical_ds
        from atlas.lineage import bronze_columns, dataset

        ds = logical_ds(context)
        full_refresh = as_bool(self.full_refresh, "full_refresh")
        sources = self.landed_files(context)
        conn = self.warehouse.get_conn()
        try:
            result = ingest(conn, self.spec, sources, context["run_id"], ds, full_refresh=full_refresh)
        finally:
            conn.close()
        for outcome in result.files:
            self.log.info("%s -> %s: %d rows, %d malformed (%s)", outcome.source, outcome.archive,
                          outcome.rows, outcome.malformed, outcome.status)
        if not result.ingested:
            raise AirflowSkipException(f"every landed file for {ds} was already ingested for another date")
        self.lineage_inputs.extend(dataset(*storage.lineage_namespace(src)) for src in sources)
        self.lineage_outputs.append(self.table_dataset(f"bronze.{self.spec.table}", bronze_columns(self.spec),
                                                       output=True, rows=result.rows))
        return result.summary()
