"""Table specs → plain task descriptions → Airflow DAGs. The one place operators are instantiated.

One DAG per table (the seven stages), plus one DAG per cross-table gold model
(``atlas_gold_<model>``: build the model, publish the AI-ready datasets built from it), scheduled
on the Asset condition "every input table's silver for the same date" (see ``atlas.gold_plan``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from atlas import settings
from atlas.config import LoadResult, TableSpec, load_table_specs
from atlas.errors import AtlasConfigError
from atlas.gold_plan import CROSS_TABLE_PREFIX, CrossTableModel, GoldPlan, TablePlan, plan_gold

STAGES = ("wait_for_source", "ingest_bronze", "detect_pii", "build_silver", "check_quality", "build_gold",
          "publish_ai_ready")
#: A stage run as several tasks, in a task group that reads as the stage: its tasks in order (the
#: last one keeps the stage's task id, XCom and lineage job).
STAGE_TASKS: dict[str, tuple[str, ...]] = {"build_silver": ("plan_silver", "stage_silver", "build_silver")}
#: Task ids of a table DAG in topological order.
TASK_IDS = tuple(task for stage in STAGES for task in STAGE_TASKS.get(stage, (stage,)))
CROSS_TABLE_STAGES = ("build_gold", "publish_ai_ready")


@dataclass(frozen=True)
class TaskDescription:
    """What to build for one stage, before any Airflow object exists."""

    task_id: str
    operator: str  # dotted path of the operator class
    kwargs: dict[str, Any] = field(default_factory=dict)
    doc_md: str = ""
    inlets: tuple[str, ...] = ()  # assets read: "landing.<table>" or "<layer>.<table>"
    outlets: tuple[str, ...] = ()  # assets made ready (events carry the logical date as partition key)
    expand: tuple[tuple[str, str], ...] = ()  # (argument, task id): one mapped task per item of its XCom


@dataclass(frozen=True)
class StageGroup:
    """A stage made of several tasks (in order), shown as one task group ``group_id``."""

    group_id: str
    tasks: tuple[TaskDescription, ...]
    tooltip: str = ""


def describe_tasks(spec: TableSpec, plan: TablePlan | None = None) -> list[TaskDescription | StageGroup]:
    """The seven stages of a table's DAG, in order."""
    ops = "atlas.operators"
    plan = plan or TablePlan()
    table, silver = spec.table, f"silver.{spec.table}"
    models = [m.model for m in plan.models]
    return [
        TaskDescription("wait_for_source", "atlas.sensors.landing.LandedFileSensor",
                        {"source_file": "{{ params.source_file }}"},
                        doc_md=f"Waits for `{spec.source.path}` ({spec.source.format}) in the landing area."),
        TaskDescription("ingest_bronze", f"{ops}.bronze.IngestBronzeOperator",
                        {"full_refresh": "{{ params.full_refresh }}"},
                        doc_md="Archives the raw file in the lake and loads it as text into "
                               f"`bronze.{spec.table}`; malformed rows go to quarantine.",
                        inlets=(f"landing.{table}",), outlets=(f"bronze.{table}",)),
        TaskDescription("detect_pii", f"{ops}.pii.DetectPiiOperator",
                        doc_md="Classifies every column with Presidio; findings (no values) in "
                               "`atlas_meta.pii_findings`."),
        _silver_group(spec),
        TaskDescription("check_quality", f"{ops}.quality.CheckQualityOperator",
                        doc_md="Soda Core checks of bronze and silver; a failed fail-severity check stops the "
                               f"run before gold. On success the date's `{silver}` asset event is emitted "
                               "(partition key = logical date): what cross-table models wait for.",
                        inlets=(f"bronze.{table}",), outlets=(silver,)),
        TaskDescription("build_gold", f"{ops}.gold.BuildGoldOperator",
                        {"models": models, "model_inputs": {m.model: list(m.inputs) for m in plan.models},
                         "input_specs": {table: spec}},
                        doc_md=_gold_doc(silver, models, plan.feeds),
                        inlets=(silver,) if models else (), outlets=tuple(m.output for m in plan.models)),
        _publish_task(spec, plan),
    ]


def _silver_group(spec: TableSpec) -> StageGroup:
    ops, key = "atlas.operators.silver", ", ".join(spec.table_schema.primary_key)
    return StageGroup("silver", (
        TaskDescription("plan_silver", f"{ops}.PlanSilverOperator",
                        doc_md=f"Cuts the date's `bronze.{spec.table}` slice into partitions of about "
                               f"{spec.silver.partition_rows:,} rows (row ranges in the order received)."),
        TaskDescription("stage_silver", f"{ops}.StageSilverOperator", expand=(("partition", "plan_silver"),),
                        doc_md="One task per partition: validates, normalizes and protects PII into the "
                               "partition's own staging tables; a retry replaces them."),
        TaskDescription("build_silver", f"{ops}.BuildSilverOperator",
                        doc_md=f"Publishes every partition in one transaction: row rules, dedupe on {key}, merge "
                               f"into `silver.{spec.table}`, quarantine, reconciliation with bronze and the leak "
                               "guard over all partitions. Readers never see part of a slice."),
    ), tooltip="validate, protect and publish silver")


def _gold_doc(silver: str, models: list[str], feeds: tuple[str, ...]) -> str:
    doc = (f"Runs the gold models that read only `{silver}` ({', '.join(f'`gold.{m}`' for m in models)}) and "
           "their Soda checks." if models else f"No gold model reads only `{silver}`: skipped.")
    if feeds:
        doc += f" Cross-table models fed by this table run in {', '.join(f'`{d}`' for d in feeds)} once all " \
               "their inputs are in for the date."
    return doc


def _publish_task(spec: TableSpec, plan: TablePlan) -> TaskDescription:
    ops = "atlas.operators"
    ai_ready = spec.ai_ready
    # runs after a build_gold that skipped (no per-table model), not after one that failed
    after = {"trigger_rule": "none_failed"}
    if ai_ready is None or plan.ai_ready_dag:
        doc = (f"`{ai_ready.name}` is built from `{ai_ready.source}` and published by `{plan.ai_ready_dag}`."
               if ai_ready else "No AI-ready dataset configured for this table.")
        return TaskDescription("publish_ai_ready", f"{ops}.ai_ready.PublishAiReadyOperator",
                               {"ai_ready": None, "published_by": plan.ai_ready_dag, **after}, doc_md=doc)
    return TaskDescription("publish_ai_ready", f"{ops}.ai_ready.PublishAiReadyOperator",
                           {"ai_ready": ai_ready, "input_specs": {spec.table: spec}, **after},
                           doc_md=f"Publishes `{ai_ready.name}` from `{ai_ready.source}` as versioned Parquet + "
                                  "manifest.",
                           inlets=(ai_ready.source,), outlets=(f"ai_ready.{ai_ready.name}",))


def describe_cross_table_tasks(model: CrossTableModel) -> list[TaskDescription]:
    """A cross-table model's DAG: build the model (with its gold checks), publish what is built from it."""
    ops = "atlas.operators"
    tables = model.tables
    specs = {s.table: s for s in model.specs}
    tasks = [TaskDescription(
        "build_gold", f"{ops}.gold.BuildGoldOperator",
        {"models": [model.name], "model_inputs": {model.name: list(tables.inputs)}, "input_specs": specs},
        doc_md=f"Builds `{tables.output}` from {', '.join(f'`{t}`' for t in tables.inputs)} for the run's date "
               "(its partition key), guards it against PII with every input table's policy and runs its Soda "
               "checks.",
        inlets=tables.inputs, outlets=(tables.output,))]
    for publisher in model.publishers:
        assert publisher.ai_ready is not None
        name = publisher.ai_ready.name
        task_id = "publish_ai_ready" if len(model.publishers) == 1 else f"publish_{name}"
        tasks.append(TaskDescription(
            task_id, f"{ops}.ai_ready.PublishAiReadyOperator", {"ai_ready": publisher.ai_ready, "input_specs": specs},
            doc_md=f"Publishes `{name}` (configured in `{publisher.table}.yml`) from `{tables.output}` as "
                   "versioned Parquet + manifest.",
            inlets=(tables.output,), outlets=(f"ai_ready.{name}",)))
    return tasks


def _import(dotted: str) -> type:
    from importlib import import_module

    module, _, name = dotted.rpartition(".")
    return getattr(import_module(module), name)


def _asset(name: str) -> Any:
    from atlas.assets import landing_asset, table_asset

    return landing_asset(name.split(".", 1)[1]) if name.startswith("landing.") else table_asset(name)


def _make_tasks(descriptions: list[TaskDescription | StageGroup], spec: TableSpec, expected_rows: int) -> list[Any]:
    """The operators (a task group per :class:`StageGroup`); each task's execution_timeout is sized
    for ``expected_rows`` rows a day."""
    from airflow.sdk import TaskGroup, chain

    from atlas.timeouts import execution_timeout

    made: list[Any] = []
    for description in descriptions:
        if isinstance(description, StageGroup):
            with TaskGroup(description.group_id, prefix_group_id=False, tooltip=description.tooltip) as group:
                chain(*_make_tasks(list(description.tasks), spec, expected_rows))
            made.append(group)
            continue
        t = description
        kwargs = dict(task_id=t.task_id, spec=spec, doc_md=t.doc_md,
                      execution_timeout=execution_timeout(t.task_id, expected_rows),
                      inlets=[_asset(a) for a in t.inlets], outlets=[_asset(a) for a in t.outlets], **t.kwargs)
        operator = _import(t.operator)
        if t.expand:
            upstream = {task.task_id: task for task in made}
            made.append(operator.partial(**kwargs).expand(**{arg: upstream[src].output for arg, src in t.expand}))
        else:
            made.append(operator(**kwargs))
    return made


def dag_doc(spec: TableSpec, file: Path, plan: TablePlan | None = None) -> str:
    """Markdown shown on the DAG's page in the Airflow UI."""
    plan = plan or TablePlan()
    pii = ", ".join(f"`{c}`: {p.strategy}" for c, p in spec.pii.columns.items()) or "none configured"
    links = " · ".join(f"[{name}]({url})" for name, url in spec.links.items())
    gold = ", ".join([m.model for m in plan.models]
                     + [f"{d.removeprefix(CROSS_TABLE_PREFIX)} (in {d})" for d in plan.feeds]) or "none"
    ai_ready = spec.ai_ready.name if spec.ai_ready else "none"
    if spec.ai_ready and plan.ai_ready_dag:
        ai_ready += f" (published by {plan.ai_ready_dag})"
    return "\n".join([
        f"# {spec.table}", "", spec.description.strip(), "",
        f"- **Owner:** {spec.owner}",
        f"- **Source:** `{spec.source.path}` ({spec.source.format})",
        f"- **Primary key:** {', '.join(spec.table_schema.primary_key)}",
        f"- **PII policy:** {pii}",
        f"- **Quality checks:** `include/soda/` ({spec.quality.checks or 'generated defaults'})",
        f"- **Gold models:** {gold}",
        f"- **AI-ready:** {ai_ready}",
        f"- **Config:** `{file.name}`", "", links,
    ])


#: Refused at trigger time (400): whitespace or control characters, "..", template syntax, absolute
#: paths, backslashes. The task checks again (landing root, allow-list, symlinks) before opening anything.
SOURCE_FILE_PATTERN = r"^$|^(?![/~])(?!.*(?:^|/)\.\.(?:/|$))(?!.*[{]{2}|.*[{][%#])[^\s\\]+$"


def _params() -> dict[str, Any]:
    from airflow.sdk import Param

    return {
        "source_file": Param("", type="string", title="Source file", maxLength=1024,
                             description="A glob relative to the landing root, or a full file:// or s3:// URL "
                                         "under it; used literally (no templates). Empty = the configured path "
                                         "for the run's date.",
                             pattern=SOURCE_FILE_PATTERN),
        "full_refresh": Param(False, type="boolean", title="Full refresh",
                              description="Re-ingest files even if the same content was ingested before."),
    }


def _default_args(spec: TableSpec) -> dict[str, Any]:
    from atlas.alerts import failure_callbacks, recovery_callbacks
    from atlas.retry import retry_policy

    return {
        "owner": spec.owner,
        "retries": spec.retries,
        "retry_delay": timedelta(seconds=spec.retry_delay_seconds),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(seconds=spec.max_retry_delay_seconds),
        "on_failure_callback": failure_callbacks(spec),
        "on_success_callback": recovery_callbacks(spec),
        "retry_policy": retry_policy(spec),
    }


def build_dag(spec: TableSpec, file: Path, plan: TablePlan | None = None) -> Any:
    """One Airflow DAG for one table spec (``plan``: its share of the gold plan)."""
    from airflow.sdk import DAG, chain

    if plan is None:  # a table on its own (tests, probes): only models that read just this table
        alone = plan_gold({spec.table: spec})
        if spec.dag_id in alone.errors:
            raise alone.errors[spec.dag_id]
        plan = alone.tables[spec.table]
    with DAG(
        dag_id=spec.dag_id,
        description=(spec.description.strip().split(". ")[0] or spec.table)[:200],
        doc_md=dag_doc(spec, file, plan),
        schedule=spec.schedule,
        start_date=datetime.fromisoformat(spec.start_date).replace(tzinfo=UTC),
        catchup=spec.catchup,
        tags=sorted(set(spec.tags) | {"atlas", f"table:{spec.table}"}),
        default_args=_default_args(spec),
        params=_params(),
        max_active_runs=1,
        template_searchpath=[str(settings.include_dir() / "sql")],
        owner_links={spec.owner: spec.links["runbook"]} if "runbook" in spec.links else {},
    ) as dag:
        chain(*_make_tasks(describe_tasks(spec, plan), spec, spec.expected_rows))
    return dag


def cross_table_doc(model: CrossTableModel) -> str:
    tables = model.tables
    published = ", ".join(f"`{s.ai_ready.name}` (config: `{s.table}.yml`)" for s in model.publishers if s.ai_ready)
    return "\n".join([
        f"# gold.{model.name}", "",
        f"A cross-table gold model: `include/sql/gold/{model.name}.sql` reads "
        + ", ".join(f"`{t}`" for t in tables.inputs) + ".", "",
        "- **Runs when:** every input's silver for the same date is in (Airflow asset condition "
        + " & ".join(f"`{t}`" for t in tables.inputs) + " on a partitioned asset timetable; the partition key "
        "is the date), whichever table arrives first.",
        f"- **Builds:** `{tables.output}` as of the partition's date, then its Soda checks "
        f"(`include/soda/gold/{model.name}.yml`).",
        f"- **Publishes:** {published or 'nothing'}",
        f"- **Owner:** {model.lead.owner} (from `{model.lead.table}.yml`)",
    ])


def build_cross_table_dag(model: CrossTableModel) -> Any:
    """The DAG of a cross-table model, triggered per date once every input table's silver is in."""
    from airflow.sdk import DAG, PartitionedAssetTimetable, StartOfDayMapper, chain

    from atlas.assets import all_of

    lead = model.lead
    default_args = _default_args(lead)
    default_args["on_failure_callback"] = _merged_callbacks(model.specs, "failure")
    default_args["on_success_callback"] = _merged_callbacks(model.specs, "recovery")
    with DAG(
        dag_id=model.dag_id,
        description=f"gold.{model.name} from {' + '.join(model.tables.inputs)}, once all are in for a date",
        doc_md=cross_table_doc(model),
        schedule=PartitionedAssetTimetable(
            assets=all_of(model.tables.inputs),
            # table DAGs tag their events with the logical date (YYYY-MM-DD); a day maps to itself
            default_partition_mapper=StartOfDayMapper(input_format="%Y-%m-%d"),
        ),
        start_date=min(datetime.fromisoformat(s.start_date) for s in model.specs).replace(tzinfo=UTC),
        catchup=False,
        tags=sorted({"atlas", "gold", "cross-table", f"model:{model.name}"}
                    | {f"table:{s.table}" for s in model.specs}),
        default_args=default_args,
        max_active_runs=1,  # one build of the (single, swapped) gold table at a time
        template_searchpath=[str(settings.include_dir() / "sql")],
        owner_links={lead.owner: lead.links["runbook"]} if "runbook" in lead.links else {},
    ) as dag:
        # sized for every input's rows: the model reads them all
        chain(*_make_tasks(describe_cross_table_tasks(model), model.model_spec(),
                           sum(s.expected_rows for s in model.specs)))
    return dag


def _merged_callbacks(specs: tuple[TableSpec, ...], kind: str) -> list[Any]:
    """Every input table's alert notifiers, each destination once."""
    from atlas.alerts import failure_callbacks, recovery_callbacks

    make = failure_callbacks if kind == "failure" else recovery_callbacks
    merged: dict[str, Any] = {}
    for spec in specs:
        for notifier in make(spec):
            merged.setdefault(repr(notifier), notifier)
    return list(merged.values())


def broken_dag(dag_id: str, error: AtlasConfigError) -> Any:
    """A DAG that fails validation with the config error: Airflow records an import error for the
    DAG file naming the config file and field, while the other DAGs load normally."""
    from airflow.sdk import DAG

    class BrokenConfigDAG(DAG):
        def validate(self) -> None:
            raise error

    return BrokenConfigDAG(dag_id=dag_id, schedule=None, description=f"config error: {error}")


def build_dags(tables_dir: Path | None = None, strict: bool | None = None) -> dict[str, Any]:
    """DAGs for every table config and cross-table model; a broken config (or model) yields a
    failing placeholder for the DAG it breaks (or raises if strict)."""
    results: list[LoadResult] = load_table_specs(tables_dir or settings.tables_dir())
    strict = settings.strict_config() if strict is None else strict
    specs = {r.spec.table: r for r in results if r.spec is not None}
    broken = {r.file.stem: r.error for r in results if r.error is not None}
    plan: GoldPlan = plan_gold({t: r.spec for t, r in specs.items() if r.spec},  # type: ignore[misc]
                               broken)
    errors = {f"atlas_{table}": error for table, error in broken.items()} | plan.errors
    if strict and errors:
        raise next(iter(errors.values()))
    dags = {}
    for table, result in specs.items():
        assert result.spec is not None
        if result.spec.dag_id not in errors:
            dags[result.spec.dag_id] = build_dag(result.spec, result.file, plan.tables[table])
    for model in plan.cross_table.values():
        dags[model.dag_id] = build_cross_table_dag(model)
    for dag_id, error in errors.items():  # last: the file's import error names a config error
        dags[dag_id] = broken_dag(dag_id, error)
    return dags
