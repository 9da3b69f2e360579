"""wait_for_source: wait until the table's file(s) for the logical date have landed."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from atlas.config import TableSpec


class LandedFileSensor(BaseSensorOperator):
    """Pokes the landing area (local folder or s3://) for the configured glob or the run's source_file."""

    ui_color = "#fef3c7"

    def __init__(self, *, spec: TableSpec, **kwargs: Any) -> None:
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("poke_interval", spec.source.poke_interval_seconds)
        kwargs.setdefault("timeout", spec.source.timeout_seconds)
        super().__init__(**kwargs)
        self.spec = spec
        self.found: list[Any] = []  # ObjectStoragePaths of the last poke

    def poke(self, context: Any) -> PokeReturnValue:
        from atlas import storage
        from atlas.context import logical_ds, source_pattern

        pattern = source_pattern(context, self.spec.source.path, logical_ds(context))
        files = storage.resolve_source(pattern)
        self.log.info("looking for %s: %d file(s) found", pattern, len(files))
        self.found = files
        return PokeReturnValue(is_done=bool(files), xcom_value=[str(f) for f in files])

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The landed files this run will ingest, as input datasets."""
        from airflow.providers.openlineage.extractors import OperatorLineage

        from atlas import storage
        from atlas.lineage import dataset

        return OperatorLineage(inputs=[dataset(*storage.lineage_namespace(f)) for f in self.found])
