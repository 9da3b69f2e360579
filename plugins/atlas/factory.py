"""Table spec → plain task descriptions → Airflow DAG. The one place operators are instantiated."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from atlas import settings
from atlas.config import LoadResult, TableSpec, load_table_specs

STAGES = ("wait_for_source", "ingest_bronze", "detect_pii", "build_silver", "check_quality", "build_gold",
          "publish_ai_ready")


@dataclass(frozen=True)
class TaskDescription:
    """What to build for one stage, before any Airflow object exists."""

    task_id: str
    operator: str  # dotted path of the operator class
    kwargs: dict[str, Any] = field(default_factory=dict)
    doc_md: str = ""


def describe_tasks(spec: TableSpec) -> list[TaskDescription]:
    """The seven stages of a table's DAG, in order."""
    ops = "atlas.operators"
    return [
        TaskDescription("wait_for_source", "atlas.sensors.landing.LandedFileSensor",
                        {"source_file": "{{ params.source_file }}"},
                        doc_md=f"Waits for `{spec.source.path}` ({spec.source.format}) in the landing area."),
        TaskDescription("ingest_bronze", f"{ops}.bronze.IngestBronzeOperator",
                        {"full_refresh": "{{ params.full_refresh }}"},
                        doc_md="Archives the raw file in the lake and loads it as text into "
                               f"`bronze.{spec.table}`; malformed rows go to quarantine."),
        TaskDescription("detect_pii", f"{ops}.pii.DetectPiiOperator",
                        doc_md="Classifies every column with Presidio; findings (no values) in "
                               "`atlas_meta.pii_findings`."),
        TaskDescription("build_silver", f"{ops}.silver.BuildSilverOperator",
                        doc_md=f"Validates, normalizes, protects PII, dedupes on "
                               f"{', '.join(spec.table_schema.primary_key)} and swaps in `silver.{spec.table}`."),
        TaskDescription("check_quality", f"{ops}.quality.CheckQualityOperator",
                        doc_md="Soda Core checks of bronze and silver; a failed fail-severity check stops the "
                               "run before gold."),
        TaskDescription("build_gold", f"{ops}.gold.BuildGoldOperator", {"models": list(spec.gold.models)},
                        doc_md="Runs gold models (" + ", ".join(f"`gold.{m}`" for m in spec.gold.models)
                               + ") and their Soda checks."),
        TaskDescription("publish_ai_ready", f"{ops}.ai_ready.PublishAiReadyOperator",
                        doc_md=f"Publishes `{spec.ai_ready.name}` as versioned Parquet + manifest."
                        if spec.ai_ready else "No AI-ready dataset configured for this table."),
    ]


def _import(dotted: str) -> type:
    from importlib import import_module

    module, _, name = dotted.rpartition(".")
    return getattr(import_module(module), name)


def dag_doc(spec: TableSpec, file: Path) -> str:
    """Markdown shown on the DAG's page in the Airflow UI."""
    pii = ", ".join(f"`{c}`: {p.strategy}" for c, p in spec.pii.columns.items()) or "none configured"
    links = " · ".join(f"[{name}]({url})" for name, url in spec.links.items())
    return "\n".join([
        f"# {spec.table}", "", spec.description.strip(), "",
        f"- **Owner:** {spec.owner}",
        f"- **Source:** `{spec.source.path}` ({spec.source.format})",
        f"- **Primary key:** {', '.join(spec.table_schema.primary_key)}",
        f"- **PII policy:** {pii}",
        f"- **Quality checks:** `include/soda/` ({spec.quality.checks or 'generated defaults'})",
        f"- **Gold models:** {', '.join(spec.gold.models) or 'none'}",
        f"- **AI-ready:** {spec.ai_ready.name if spec.ai_ready else 'none'}",
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


def build_dag(spec: TableSpec, file: Path) -> Any:
    """One Airflow DAG for one table spec."""
    from airflow.sdk import DAG, chain

    from atlas.alerts import failure_callbacks, recovery_callbacks
    from atlas.retry import retry_policy
    from atlas.timeouts import execution_timeout

    default_args = {
        "owner": spec.owner,
        "retries": spec.retries,
        "retry_delay": timedelta(seconds=spec.retry_delay_seconds),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(seconds=spec.max_retry_delay_seconds),
        "on_failure_callback": failure_callbacks(spec),
        "on_success_callback": recovery_callbacks(spec),
        "retry_policy": retry_policy(spec),
    }
    with DAG(
        dag_id=spec.dag_id,
        description=(spec.description.strip().split(". ")[0] or spec.table)[:200],
        doc_md=dag_doc(spec, file),
        schedule=spec.schedule,
        start_date=datetime.fromisoformat(spec.start_date).replace(tzinfo=UTC),
        catchup=spec.catchup,
        tags=sorted(set(spec.tags) | {"atlas", f"table:{spec.table}"}),
        default_args=default_args,
        params=_params(),
        max_active_runs=1,
        template_searchpath=[str(settings.include_dir() / "sql")],
        owner_links={spec.owner: spec.links["runbook"]} if "runbook" in spec.links else {},
    ) as dag:
        tasks = [_import(t.operator)(task_id=t.task_id, spec=spec, doc_md=t.doc_md,
                                     execution_timeout=execution_timeout(t.task_id, spec.expected_rows), **t.kwargs)
                 for t in describe_tasks(spec)]
        chain(*tasks)
    return dag


def broken_dag(result: LoadResult) -> Any:
    """A DAG that fails validation with the config error: Airflow records an import error for the
    DAG file naming the config file and field, while the other tables' DAGs load normally."""
    from airflow.sdk import DAG

    class BrokenConfigDAG(DAG):
        def validate(self) -> None:
            raise result.error  # type: ignore[misc]

    return BrokenConfigDAG(dag_id=f"atlas_{result.file.stem}", schedule=None,
                           description=f"config error: {result.error}")


def build_dags(tables_dir: Path | None = None, strict: bool | None = None) -> dict[str, Any]:
    """DAGs for every table config; a broken config yields a failing placeholder (or raises if strict)."""
    results: Iterable[LoadResult] = load_table_specs(tables_dir or settings.tables_dir())
    strict = settings.strict_config() if strict is None else strict
    dags = {}
    for result in results:
        if result.error is not None:
            if strict:
                raise result.error
            dags[f"atlas_{result.file.stem}"] = broken_dag(result)
            continue
        assert result.spec is not None
        dags[result.spec.dag_id] = build_dag(result.spec, result.file)
    return dags
