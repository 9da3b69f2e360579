"""publish_ai_ready: versioned Parquet feature set + manifest in the lake, and ai_ready.<name>."""

from __future__ import annotations

from typing import Any

from atlas.operators.base import AtlasOperator


class PublishAiReadyOperator(AtlasOperator):
    def run(self, context: Any) -> dict[str, Any]:
        from atlas import settings, storage
        from atlas.ai_ready import publish_ai_ready
        from atlas.context import logical_ds
        from atlas.lineage import dataset
        from atlas.operators.guards import input_sources, output_guard
        from atlas.pii import load_keys

        spec = self.spec.ai_ready
        if spec is None:
            return {"published": False}
        ds = logical_ds(context)
        conn = self.warehouse.get_conn()
        try:
            # the source (silver or gold) was guarded by the stage that built it; the guards check
            # the staged output before the lake version or the table is published
            guard = output_guard(input_sources(conn, [self.spec.table], ds), self.spec, f"ai_ready.{spec.name}")
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
