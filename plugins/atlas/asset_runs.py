"""Let Airflow run what asset events triggered: a local scheduler (and the API its task workers use).

``make demo`` runs the table DAGs with ``airflow dags test``. Their tasks emit asset events
tagged with the logical date; for a cross-table model's DAG (unpaused) Airflow records the
date's pending partition and which inputs are in. Only the scheduler turns a complete partition
into a DAG run, so the demo then starts one (``airflow scheduler`` + ``airflow api-server`` on a
free local port, LocalExecutor), waits for the asset-triggered runs of the date, and stops it.

Nothing here decides what runs: the runs come from Airflow's partitioned asset timetable.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FINISHED = {"success", "failed"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def airflow_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``airflow <args>`` with this interpreter; raises with the output's tail when it fails."""
    done = subprocess.run([sys.executable, "-m", "airflow", *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"airflow {' '.join(args)} failed:\n{(done.stdout + done.stderr)[-2000:]}")
    return done


def unpause(dag_ids: Sequence[str]) -> None:
    """Register the DAG files' DAGs in the metadata DB and unpause ``dag_ids``: asset events only
    queue partitions for consumer DAGs that are unpaused when the event arrives."""
    airflow_cli("dags", "reserialize")
    for dag_id in dag_ids:
        airflow_cli("dags", "unpause", dag_id, "-y")


@dataclass
class Scheduler:
    """A running scheduler + api-server; see :func:`scheduler`."""

    base_url: str
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                log = (self.log_dir / f"airflow-{name}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"airflow {name} exited with {process.returncode}:\n{log}")


def _env(port: int) -> dict[str, str]:
    from atlas.ui import standalone_env

    base_url = f"http://127.0.0.1:{port}"
    env = standalone_env(port)
    env.update({
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
    })
    return env


def _healthy(base_url: str, parts: tuple[str, ...]) -> bool:
    import httpx

    try:
        response = httpx.get(f"{base_url}/api/v2/monitor/health", timeout=5)
    except httpx.TransportError:
        return False
    health = response.json() if response.status_code == 200 else {}
    return all(health.get(part, {}).get("status") == "healthy" for part in parts)


@contextmanager
def scheduler(log_dir: Path, startup_timeout: float = 240) -> Iterator[Scheduler]:
    """Run ``airflow api-server`` and ``airflow scheduler`` until the block ends; stop both after.

    The API comes up first: the scheduler may queue a waiting run's tasks at once, and their
    workers report to the API.
    """
    port = free_port()
    env = _env(port)
    log_dir.mkdir(parents=True, exist_ok=True)
    running = Scheduler(f"http://127.0.0.1:{port}", log_dir)
    deadline = time.monotonic() + startup_timeout
    try:
        for component, ready in (("api-server", ("metadatabase",)), ("scheduler", ("metadatabase", "scheduler"))):
            with (log_dir / f"airflow-{component}.log").open("wb") as log:
                running.processes[component] = subprocess.Popen(
                    [sys.executable, "-m", "airflow", component], env=env, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True)
            while not _healthy(running.base_url, ready):
                running.check_alive()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Airflow's {component} did not become healthy within {startup_timeout:.0f} s")
                time.sleep(1)
        yield running
    finally:
        _stop(list(running.processes.values()))


def _stop(processes: list[subprocess.Popen[bytes]], timeout: float = 30) -> None:
    """SIGTERM each component's process group (its workers and task runners), SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
        for process in processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + wait
        while any(p.poll() is None for p in processes) and time.monotonic() < deadline:
            time.sleep(0.5)


@dataclass(frozen=True)
class PartitionRun:
    dag_id: str
    run_id: str
    state: str
    tasks: dict[str, str]


def partition_runs(dag_ids: Sequence[str], partition_key: str) -> list[PartitionRun]:
    """The asset-triggered runs of ``dag_ids`` for ``partition_key`` in the metadata DB."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunType
    from sqlalchemy import select

    with create_session() as session:
        runs = session.scalars(select(DagRun).where(
            DagRun.dag_id.in_(list(dag_ids)), DagRun.partition_key == partition_key,
            DagRun.run_type == DagRunType.ASSET_TRIGGERED).order_by(DagRun.id)).all()
        return [PartitionRun(r.dag_id, r.run_id, str(r.state),
                             {ti.task_id: str(ti.state) for ti in r.get_task_instances(session=session)})
                for r in runs]


def pending_partitions(dag_ids: Sequence[str], partition_key: str) -> dict[str, list[str]]:
    """For each of ``dag_ids`` with a queued, not yet started partition ``partition_key``: the
    assets whose event for it has arrived (what Airflow's asset condition is waiting on)."""
    from airflow.models.asset import AssetModel, AssetPartitionDagRun, PartitionedAssetKeyLog
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetPartitionDagRun.target_dag_id, AssetModel.name)
            .join(PartitionedAssetKeyLog,
                  PartitionedAssetKeyLog.asset_partition_dag_run_id == AssetPartitionDagRun.id)
            .join(AssetModel, AssetModel.id == PartitionedAssetKeyLog.asset_id)
            .where(AssetPartitionDagRun.target_dag_id.in_(list(dag_ids)),
                   AssetPartitionDagRun.partition_key == partition_key,
                   AssetPartitionDagRun.created_dag_run_id.is_(None))).all()
    pending: dict[str, list[str]] = {}
    for dag_id, asset in rows:
        pending.setdefault(dag_id, [])
        if asset not in pending[dag_id]:
            pending[dag_id].append(asset)
    return pending


def wait_for_partition_runs(running: Scheduler, dag_ids: Sequence[str], partition_key: str, *,
                            exclude: set[str] | frozenset[str] = frozenset(), timeout: float = 900,
                            report: Any = print) -> list[PartitionRun]:
    """Wait until each of ``dag_ids`` has a finished asset-triggered run for ``partition_key``
    (other than the run ids in ``exclude``); ``report`` gets a line per task that finished."""
    deadline, seen = time.monotonic() + timeout, set()
    while True:
        running.check_alive()
        runs = [r for r in partition_runs(dag_ids, partition_key) if r.run_id not in exclude]
        for run in runs:
            for task, state in run.tasks.items():
                if state in {"success", "failed", "skipped", "upstream_failed"} and (run.run_id, task) not in seen:
                    seen.add((run.run_id, task))
                    report(f"  {run.dag_id}: {task} {state}")
        done = {r.dag_id for r in runs if r.state in FINISHED}
        if done >= set(dag_ids):
            return runs
        if time.monotonic() > deadline:
            raise TimeoutError(f"no finished asset-triggered run of {sorted(set(dag_ids) - done)} for "
                               f"{partition_key} within {timeout:.0f} s")
        time.sleep(2)
