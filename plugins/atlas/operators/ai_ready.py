"""publish_ai_ready: versioned Parquet feature set + manifest in the lake, and ai_ready.<name>.

Runs in the DAG that builds the dataset's source: the table's own DAG for a silver source or a
per-table model, the cross-table model's DAG for a cross-table model (``customer_features``
from ``gold.customer_360``). In the table's DAG that task then skips, naming the DAG that
publishes the dataset once every input is in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from atlas.config import AiReadySpec, TableSpec
from atlas.operators.base import AtlasOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class PublishAiReadyOperator(AtlasOperator):
    """Publishes the logical date's version of an AI-ready feature set: versioned Parquet and a
    manifest in the lake, and the table ``ai_ready.<name>``; a rerun replaces the version.

    The staged output is checked by the leak guard and the PII detectors, with the policy of
    every table it is built from, before the lake version or the table changes. Skips when the
    table has no dataset, or when another DAG (``published_by``) publishes it.

    :param spec: the table's spec.
    :param ai_ready: the dataset to publish here; ``None`` when this DAG does not publish one.
    :param input_specs: the specs of the tables the dataset is built from, by table name;
        default the table's own.
    :param published_by: the DAG that publishes the table's dataset instead, named in the skip.
    :param warehouse_conn_id: Airflow connection of the warehouse.
    """

    def __init__(self, *, ai_ready: AiReadySpec | None, input_specs: Mapping[str, TableSpec] | None = None,
                 published_by: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ai_ready = ai_ready
        self.input_specs = dict(input_specs or {self.spec.table: self.spec})
        self.published_by = published_by

    def run(self, context: Context) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowSkipException

        from atlas import settings, storage
        from atlas.ai_ready import publish_ai_ready
        from atlas.context import logical_ds
        from atlas.lineage import dataset
        from atlas.operators.guards import input_sources, output_guard
        from atlas.pii import load_keys

        spec = self.ai_ready
        if spec is None:
            raise AirflowSkipException(f"{self.spec.ai_ready.name} is published by {self.published_by} once all "
                                       "its inputs are in" if self.spec.ai_ready and self.published_by
                                       else "no AI-ready dataset configured for this table")
        ds = logical_ds(context)
        conn = self.warehouse.get_conn()
        try:
            # the source (silver or gold) was guarded by the stage that built it; the guards check the
            # staged output, with the PII policy of every table it is built from, before the lake
            # version or the table is published
            guard = output_guard(input_sources(conn, list(self.input_specs), ds), list(self.input_specs.values()),
                                 f"ai_ready.{spec.name}")
            conn.commit()
            manifest = publish_ai_ready(conn, spec, settings.lake_url(), load_keys().hmac_key, context["run_id"],
                                        ds, storage_conn_id=settings.storage_conn_id(), before_publish=guard)
        finally:
            conn.close()
        self.lineage_inputs.append(self.table_dataset(spec.source))
        self.lineage_outputs.append(self.table_dataset(f"ai_ready.{spec.name}", output=True,
                                                       rows=manifest.total_rows))
        namespace, name = storage.lineage_namespace(storage.lake_root() / "ai_ready" / spec.name)
        self.lineage_outputs.append(dataset(namespace, f"{name}/version={ds}", output=True))
        return {"dataset": spec.name, "version": manifest.version, "rows": manifest.row_counts,
                "content_hash": manifest.content_hash}
