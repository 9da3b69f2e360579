"""A table's DAG runs and task states, read from Airflow's own metadata database (its ORM models).

A run belongs to a logical date when its logical date (or, for runs triggered without one, its
``run_after``) falls on that UTC day, or when ``atlas_meta`` recorded its run id for the date.
Links point at the run's page in the Airflow UI.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

RECENT_RUNS = 10
NOT_STARTED = datetime.max.replace(tzinfo=UTC)  # sorts tasks that have not started last


def ui_root() -> str:
    """Path of the Airflow UI from ``[api] base_url`` (``/`` by default), ending in ``/``."""
    from airflow.api_fastapi.app import API_ROOT_PATH

    return API_ROOT_PATH or "/"


def run_url(dag_id: str, run_id: str) -> str:
    return f"{ui_root()}dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def dag_url(dag_id: str) -> str:
    return f"{ui_root()}dags/{quote(dag_id, safe='')}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _run(row: Any, dag_id: str, recorded: set[str]) -> dict[str, Any]:
    seconds = (row.end_date - row.start_date).total_seconds() if row.start_date and row.end_date else None
    return {"run_id": row.run_id, "state": str(row.state) if row.state else None, "run_type": str(row.run_type),
            "logical_date": _iso(row.logical_date), "run_after": _iso(row.run_after),
            "start_date": _iso(row.start_date), "end_date": _iso(row.end_date),
            "duration_seconds": round(seconds, 1) if seconds is not None else None,
            "recorded_in_atlas_meta": row.run_id in recorded, "url": run_url(dag_id, row.run_id)}


def dag_runs(session: Any, dag_id: str, ds: str, recorded_run_ids: Iterable[str] = (),
             limit: int = RECENT_RUNS) -> dict[str, Any]:
    """The DAG's runs for ``ds`` and its ``limit`` most recent runs, with the task states of the run
    whose results ``atlas_meta`` holds for the date (else the newest run of the date)."""
    from airflow.models.dagrun import DagRun
    from sqlalchemy import and_, or_, select

    recorded = {r for r in recorded_run_ids if r}
    start = datetime.combine(date.fromisoformat(ds), datetime.min.time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    columns = (DagRun.run_id, DagRun.state, DagRun.run_type, DagRun.logical_date, DagRun.run_after,
               DagRun.start_date, DagRun.end_date)
    on_date = or_(and_(DagRun.logical_date >= start, DagRun.logical_date < end),
                  and_(DagRun.logical_date.is_(None), DagRun.run_after >= start, DagRun.run_after < end),
                  DagRun.run_id.in_(sorted(recorded)))
    for_date = session.execute(select(*columns).where(DagRun.dag_id == dag_id, on_date)
                               .order_by(DagRun.run_after.desc()).limit(limit)).all()
    recent = session.execute(select(*columns).where(DagRun.dag_id == dag_id)
                             .order_by(DagRun.run_after.desc()).limit(limit)).all()
    runs = [_run(r, dag_id, recorded) for r in for_date]
    shown = next((r for r in runs if r["recorded_in_atlas_meta"]), runs[0] if runs else None)
    return {"dag_id": dag_id, "dag_url": dag_url(dag_id), "for_date": runs,
            "recent": [_run(r, dag_id, recorded) for r in recent],
            "tasks": task_states(session, dag_id, shown["run_id"]) if shown else [],
            "tasks_of_run": shown["run_id"] if shown else None}


def task_states(session: Any, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    """Each task of the run in start order: state, tries, duration (mapped tasks: one line, state counts)."""
    from airflow.models.taskinstance import TaskInstance as TI
    from sqlalchemy import select

    rows = session.execute(select(TI.task_id, TI.map_index, TI.state, TI.try_number, TI.start_date, TI.end_date)
                           .where(TI.dag_id == dag_id, TI.run_id == run_id)).all()
    tasks: dict[str, dict[str, Any]] = {}
    for row in rows:
        task = tasks.setdefault(row.task_id, {"task_id": row.task_id, "states": {}, "try_number": 0,
                                              "start_date": None, "end_date": None,
                                              "url": f"{run_url(dag_id, run_id)}/tasks/{quote(row.task_id, safe='')}"})
        state = str(row.state) if row.state else "none"
        task["states"][state] = task["states"].get(state, 0) + 1
        task["try_number"] = max(task["try_number"], row.try_number or 0)
        if row.start_date and (task["start_date"] is None or row.start_date < task["start_date"]):
            task["start_date"] = row.start_date
        if row.end_date and (task["end_date"] is None or row.end_date > task["end_date"]):
            task["end_date"] = row.end_date
    ordered = sorted(tasks.values(), key=lambda t: (t["start_date"] or NOT_STARTED, t["task_id"]))
    for task in ordered:
        states = task.pop("states")
        task["state"] = next(iter(states)) if len(states) == 1 else ", ".join(f"{n} {s}" for s, n in states.items())
        seconds = (task["end_date"] - task["start_date"]).total_seconds() \
            if task["start_date"] and task["end_date"] else None
        task["duration_seconds"] = round(seconds, 1) if seconds is not None else None
        task["start_date"], task["end_date"] = _iso(task["start_date"]), _iso(task["end_date"])
    return ordered

