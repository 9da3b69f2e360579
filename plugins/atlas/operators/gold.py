"""build_gold: run the table's gold SQL models (include/sql/gold/*.sql, Jinja-rendered by Airflow)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atlas.operators.base import AtlasOperator


class BuildGoldOperator(AtlasOperator):
    template_fields = ("sql_files",)
    template_ext = (".sql",)
    template_fields_renderers = {"sql_files": "sql"}

    def __init__(self, *, models: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.models = list(models)
        self.sql_files = [f"gold/{m}.sql" for m in self.models]

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        from atlas.context import logical_ds

        if not context.get("ds"):
            context["ds"] = logical_ds(context)
        super().render_template_fields(context, jinja_env)

    def run(self, context: Any) -> dict[str, Any]:
        from atlas import settings
        from atlas.config import load_valid_specs
        from atlas.context import logical_ds
        from atlas.gold import run_model
        from atlas.operators.guards import input_sources, output_guard
        from atlas.warehouse.run_metrics import record_stage_metrics
        from atlas.warehouse.tables import ensure_tables

        specs = load_valid_specs(settings.tables_dir())
        conn = self.warehouse.get_conn()
        built: dict[str, int] = {}
        try:
            with conn.cursor() as cur:  # every silver input exists, even before its first load
                for spec in specs.values():
                    ensure_tables(cur, spec)
            conn.commit()
            sources, raw = input_sources(conn, [self.spec.table], logical_ds(context)), {}
            for model, sql in zip(self.models, self.sql_files, strict=True):
                # the leak guards run inside the model's transaction, before its commit; the raw
                # values are read once for all models
                guard = output_guard(sources, self.spec, f"gold.{model}", raw)
                built[model] = run_model(conn, sql, before_commit=guard)
                self.log.info("gold.%s: %d rows", model, built[model])
            with conn.cursor() as cur:  # rows per model and date, for Atlas's page in the Airflow UI
                for model, rows in built.items():
                    record_stage_metrics(cur, model, "gold", {"rows": rows}, context["run_id"], logical_ds(context))
            conn.commit()
        finally:
            conn.close()
        self.lineage_inputs.extend(self.table_dataset(f"silver.{t}") for t in sorted(specs))
        report = self.check_layer(context, "gold")
        self.lineage_outputs.extend(self.table_dataset(f"gold.{m}", output=True, rows=n) for m, n in built.items())
        report.raise_for_failures()
        return {"models": built, "checks": len(report.results), "failed": [c.name for c in report.failed],
                "warned": [c.name for c in report.warned]}
