"""Build ``atlas_maintenance`` (daily retention, one task per table) and ``atlas_erasure`` (one
erasure request per triggered run). Parsing reads only the table configs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from atlas import settings
from atlas.config import TableSpec, load_table_specs

MAINTENANCE_DAG_ID = "atlas_maintenance"
ERASURE_DAG_ID = "atlas_erasure"
OWNER = "data-platform"
PURGE_TIMEOUT = timedelta(hours=2)
ERASURE_TIMEOUT = timedelta(hours=4)
KEY_PATTERN = r"^[^\x00-\x1f\x7f]+$"


def _default_args() -> dict[str, Any]:
    return {"owner": OWNER, "retries": 2, "retry_delay": timedelta(minutes=1), "retry_exponential_backoff": 2.0,
            "max_retry_delay": timedelta(minutes=20)}


def _start_date(specs: Mapping[str, TableSpec]) -> datetime:
    earliest = min((s.start_date for s in specs.values()), default="2026-01-01")
    return datetime.fromisoformat(earliest).replace(tzinfo=UTC)


def _retention_doc(specs: Mapping[str, TableSpec]) -> str:
    def days(value: int | None) -> str:
        return f"{value} d" if value else "keep"

    rows = [f"| {name} | " + " | ".join(days(spec.retention.days(layer)) for layer in
                                         ("bronze", "quarantine", "silver", "gold", "ai_ready")) + " |"
            for name, spec in sorted(specs.items())]
    return "\n".join([
        "# Retention", "",
        "Deletes, for every table, what is older than its layer's period (`retention` in the table config), "
        "counted back from this run's date by logical date. Each layer is one transaction; what was deleted "
        "(counts and dates, never values) goes to `atlas_meta.retention_purges` and to OpenLineage.", "",
        "| table | bronze + raw archive | quarantine | silver | gold | AI-ready |",
        "| --- | --- | --- | --- | --- | --- |", *rows,
    ])


def maintenance_dag(specs: Mapping[str, TableSpec]) -> Any:
    """One purge task per table, independent of each other."""
    from airflow.sdk import DAG

    from atlas.alerts import failure_callbacks
    from atlas.maintenance.operators import PurgeExpiredOperator

    with DAG(
        dag_id=MAINTENANCE_DAG_ID,
        description="Retention: delete expired slices of every layer",
        doc_md=_retention_doc(specs),
        schedule="@daily",
        start_date=_start_date(specs),
        catchup=False,
        max_active_runs=1,
        tags=["atlas", "maintenance", "retention"],
        default_args=_default_args(),
    ) as dag:
        for name, spec in sorted(specs.items()):
            PurgeExpiredOperator(task_id=f"purge_{name}", spec=spec, execution_timeout=PURGE_TIMEOUT,
                                 on_failure_callback=failure_callbacks(spec),
                                 doc_md=f"Deletes `{name}` slices older than its retention periods.")
    return dag


def erasure_params(specs: Mapping[str, TableSpec]) -> dict[str, Any]:
    """The trigger form: tables and key columns as enums, so a typo is a 400 at trigger time."""
    from airflow.sdk import Param

    from atlas.erasure import key_columns

    columns = sorted({c for spec in specs.values() for c in key_columns(spec)})
    return {
        "table": Param(type="string", enum=sorted(specs), title="Table",
                       description="The table the data subject's key belongs to."),
        "key_column": Param(type="string", enum=columns, title="Key column",
                            description="The column holding the key (must belong to the table; pseudonymized "
                                        "or unprotected columns only)."),
        "key_value": Param(type="string", minLength=1, maxLength=256, pattern=KEY_PATTERN, title="Key value",
                           description="The data subject's key as received (e.g. the customer id). Airflow keeps "
                                       "it in this run's conf: delete the run afterwards (docs/pii.md)."),
    }


def _alerts(specs: Mapping[str, TableSpec]) -> list[Any]:
    """Failure alerts for a request not bound to one table: every table's recipients and channels."""
    from atlas.alerts import EmailAlert, SlackAlert

    emails = sorted({address for spec in specs.values() for address in spec.alerts.email})
    email_conns = sorted({spec.alerts.email_conn_id for spec in specs.values() if spec.alerts.email})
    slack_conns = sorted({spec.alerts.slack_conn_id for spec in specs.values() if spec.alerts.slack_conn_id})
    return ([EmailAlert(conn, to=emails) for conn in email_conns[:1]]
            + [SlackAlert(conn) for conn in slack_conns])


def _no_lineage(dag: Any) -> None:
    """No OpenLineage events for erasure runs: the provider's run facets carry the run's conf,
    which holds the raw key. The switch is a const param, so a run's conf cannot turn it back on."""
    try:
        from airflow.providers.openlineage.api.emission_policy import extend_global_openlineage_emission_policy
        from airflow.providers.openlineage.utils.emission_policy import OL_EMISSION_POLICY_PARAM
    except ImportError:  # no OpenLineage provider: nothing is emitted anyway
        return
    from airflow.sdk import Param

    extend_global_openlineage_emission_policy(dag, emit=False)
    for holder in (dag, *dag.tasks):
        value = holder.params.get_param(OL_EMISSION_POLICY_PARAM).value
        holder.params[OL_EMISSION_POLICY_PARAM] = Param(
            value, type="object", const=value, title="OpenLineage (fixed)",
            description="Lineage is off for erasures: its events would carry the raw key.")


def erasure_dag(specs: Mapping[str, TableSpec]) -> Any:
    """One task: erase the data subject named by the run's params, everywhere."""
    from airflow.sdk import DAG

    from atlas.maintenance.operators import EraseSubjectOperator

    with DAG(
        dag_id=ERASURE_DAG_ID,
        description="Erase one data subject from every layer (GDPR Art. 17)",
        doc_md=(
            "# Erasure request\n\nTrigger with `table`, `key_column` and `key_value`. Removes the subject "
            "from bronze, quarantine, silver, the raw archive and landed files, gold (rebuilt) and every "
            "AI-ready version, also in tables that refer to it (`erasure.references`), and records the "
            "request in `atlas_meta.erasure_requests` under the key's pseudonym. A key that is nowhere "
            "succeeds with zero counts. See docs/pii.md."),
        schedule=None,
        start_date=_start_date(specs),
        catchup=False,
        max_active_runs=1,
        tags=["atlas", "maintenance", "pii"],
        default_args=_default_args(),
        params=erasure_params(specs),
    ) as dag:
        EraseSubjectOperator(task_id="erase_subject", execution_timeout=ERASURE_TIMEOUT,
                             on_failure_callback=_alerts(specs),
                             doc_md="Erases the requested data subject; counts and pseudonym only in the result.")
    _no_lineage(dag)
    return dag


def build_dags(tables_dir: Path | None = None, strict: bool | None = None) -> dict[str, Any]:
    """Both DAGs over the valid table configs. A broken config is reported by the table DAGs'
    file and left out here, or, in strict mode, raised (as the table DAGs' file does)."""
    results = load_table_specs(tables_dir or settings.tables_dir())
    if settings.strict_config() if strict is None else strict:
        for result in results:
            if result.error is not None:
                raise result.error
    specs = {r.spec.table: r.spec for r in results if r.spec is not None}
    return {MAINTENANCE_DAG_ID: maintenance_dag(specs), ERASURE_DAG_ID: erasure_dag(specs)}
