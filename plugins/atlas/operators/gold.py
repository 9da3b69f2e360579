"""build_gold: run gold SQL models (include/sql/gold/*.sql, Jinja-rendered by Airflow) and their checks.

In a table's DAG it builds the models that read only that table's silver; in a cross-table
model's DAG (``atlas_gold_<model>``) the one model, for the date in the run's partition key.
Inputs come from the model's SQL (``atlas.gold.model_tables``, passed in by the factory): they
are checked to be in for the date, they are the lineage inputs, and their tables' PII policies
guard the output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from atlas.config import GoldSpec, TableSpec
from atlas.operators.base import AtlasOperator

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context
    from psycopg2.extensions import connection as PgConnection


class BuildGoldOperator(AtlasOperator):
    """Runs gold SQL models (``include/sql/gold/<model>.sql``, rendered by Airflow with the
    run's date) for the logical date, then the layer's gold checks.

    Every silver input must be built and have passed its quality gate for the date. Each model's
    output goes through the leak guard and the PII detectors, with the policy of every table it
    reads, inside its transaction and before it commits. Skips when no model reads only this
    table's silver (a cross-table model has a DAG of its own).

    :param spec: the table's spec.
    :param models: the gold models to build, in order.
    :param model_inputs: each model's input tables (``schema.table``), as read from its SQL;
        default ``silver.<table>``.
    :param input_specs: the specs of the tables the models read, by table name, whose PII
        policies guard the output; default the table's own.
    :param warehouse_conn_id: Airflow connection of the warehouse.
    """

    template_fields = ("sql_files",)
    template_ext = (".sql",)
    template_fields_renderers = {"sql_files": "sql"}

    def __init__(self, *, models: Sequence[str], model_inputs: Mapping[str, Sequence[str]] | None = None,
                 input_specs: Mapping[str, TableSpec] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.models = list(models)
        self.model_inputs = {m: list((model_inputs or {}).get(m) or [f"silver.{self.spec.table}"]) for m in models}
        self.input_specs = dict(input_specs or {self.spec.table: self.spec})
        self.sql_files = [f"gold/{m}.sql" for m in self.models]

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None) -> None:
        from atlas.context import logical_ds

        ds = logical_ds(context)  # a partitioned run's date is its (validated) partition key
        context["ds"], context["ds_nodash"] = ds, ds.replace("-", "")
        super().render_template_fields(context, jinja_env)

    def run(self, context: Context) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowSkipException

        from atlas.context import logical_ds
        from atlas.gold import run_model
        from atlas.warehouse.run_metrics import record_stage_metrics

        if not self.models:
            raise AirflowSkipException(f"no gold model reads only silver.{self.spec.table}")
        ds = logical_ds(context)
        inputs = sorted({t for tables in self.model_inputs.values() for t in tables})
        conn = self.warehouse.get_conn()
        built: dict[str, int] = {}
        try:
            require_inputs(conn, inputs, ds)
            guards = ModelGuards(conn, self.input_specs, ds)
            for model, sql in zip(self.models, self.sql_files, strict=True):
                # the leak guards run inside the model's transaction, before its commit
                built[model] = run_model(conn, sql, before_commit=guards.for_model(model, self.model_inputs[model]))
                self.log.info("gold.%s for %s: %d rows from %s", model, ds, built[model],
                              ", ".join(self.model_inputs[model]))
            with conn.cursor() as cur:  # rows per model and date, for Atlas's page in the Airflow UI
                for model, rows in built.items():
                    record_stage_metrics(cur, model, "gold", {"rows": rows}, context["run_id"], ds)
            conn.commit()
        finally:
            conn.close()
        self.lineage_inputs.extend(self.table_dataset(t) for t in inputs)
        # the gold checks of the models built here (a table may list cross-table models built elsewhere)
        report = self.check_layer(context, "gold", self.spec.model_copy(
            update={"gold": GoldSpec(models=tuple(self.models))}))
        self.lineage_outputs.extend(self.table_dataset(f"gold.{m}", output=True, rows=n) for m, n in built.items())
        report.raise_for_failures()
        return {"models": built, "inputs": inputs, "checks": len(report.results),
                "failed": [c.name for c in report.failed], "warned": [c.name for c in report.warned]}


class ModelGuards:
    """The leak guard and detector check of each model, with the PII policy of every table it
    reads; the raw values of a set of input tables are read once for all models reading it.

    :param conn: the build's warehouse connection.
    :param specs: the specs of every table the models read, by table name.
    :param ds: the logical date whose raw values must not leak.
    """

    def __init__(self, conn: PgConnection, specs: Mapping[str, TableSpec], ds: str) -> None:
        self.conn, self.specs, self.ds = conn, specs, ds
        self.raw: dict[tuple[str, ...], dict[str, Any]] = {}

    def for_model(self, model: str, inputs: Sequence[str]) -> Any:
        from atlas.operators.guards import input_sources, output_guard

        tables = tuple(t.split(".", 1)[1] for t in inputs if t.startswith("silver."))
        sources = input_sources(self.conn, tables, self.ds)
        return output_guard(sources, [self.specs[t] for t in tables], f"gold.{model}",
                            self.raw.setdefault(tables, {}))


def require_inputs(conn: PgConnection, inputs: Sequence[str], ds: str) -> None:
    """Fail unless every silver input was built for ``ds`` and passed its quality gate.

    The asset condition only starts a cross-table run when that holds; this catches a run
    triggered by hand for a date an input never delivered, instead of building from a partial
    picture (missing tables are never created empty to hide it).
    """
    from atlas.errors import AtlasInputsMissingError

    tables = [t.split(".", 1)[1] for t in inputs if t.startswith("silver.")]
    with conn.cursor() as cur:
        cur.execute(
            "SELECT t.name, to_regclass('silver.' || quote_ident(t.name)) IS NOT NULL, "
            "EXISTS (SELECT 1 FROM atlas_meta.run_metrics m WHERE m.table_name = t.name AND m.stage = 'silver' "
            "        AND m.logical_date = %(ds)s), "
            "EXISTS (SELECT 1 FROM atlas_meta.quality_results q WHERE q.table_name = t.name AND q.layer = 'silver' "
            "        AND q.logical_date = %(ds)s), "
            "EXISTS (SELECT 1 FROM atlas_meta.quality_results q WHERE q.table_name = t.name AND q.layer = 'silver' "
            "        AND q.logical_date = %(ds)s AND q.severity = 'fail' AND q.outcome IN ('fail', 'error')) "
            "FROM unnest(%(tables)s::text[]) AS t(name) ORDER BY t.name", {"ds": ds, "tables": tables})
        rows = cur.fetchall()
    conn.commit()
    missing = [f"silver.{name}: " + ("no table" if not exists else "not built for this date" if not built
                                     else "not checked for this date" if not checked else "failed its quality gate")
               for name, exists, built, checked, failed in rows if not (exists and built and checked and not failed)]
    if missing:
        raise AtlasInputsMissingError(f"inputs not in for {ds}: {'; '.join(missing)}")
