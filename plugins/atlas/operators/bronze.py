"""ingest_bronze: archive landed files raw and load them as text into bronze.<table>."""

from __future__ import annotations

from typing import Any

from atlas.operators.base import AtlasOperator


class IngestBronzeOperator(AtlasOperator):
    def run(self, context: Any) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowSkipException

        from atlas import storage
        from atlas.bronze.ingest import ingest
        from atlas.context import logical_ds, source_pattern
        from atlas.errors import AtlasInputError
        from atlas.lineage import bronze_columns, dataset

        ds = logical_ds(context)
        pattern = source_pattern(context, self.spec.source.path, ds)
        sources = storage.resolve_source(pattern)
        if not sources:
            raise AtlasInputError(f"no file matches {pattern} in the landing area")
        conn = self.warehouse.get_conn()
        try:
            full_refresh = bool((context.get("params") or {}).get("full_refresh"))
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
