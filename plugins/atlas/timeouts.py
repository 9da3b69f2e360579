"""Task timeouts sized from the table's expected rows per day: a hang becomes a failed try.

Each stage gets a fixed allowance plus a per-row budget several times what it needs at scale,
so a slow but healthy day finishes while a stuck one (a lock wait, a dead worker pool) fails
and Airflow retries it. The sensor's limit is per poke; its total wait is ``source.timeout_seconds``.
"""

from __future__ import annotations

from datetime import timedelta

BASE = timedelta(minutes=10)
POKE = timedelta(minutes=5)
#: Budget per expected row and stage, in microseconds.
MICROSECONDS_PER_ROW: dict[str, int] = {
    "ingest_bronze": 300,
    "detect_pii": 30,
    "plan_silver": 30,
    "stage_silver": 2_000,  # one partition; sized for the whole day (a day may be one partition)
    "build_silver": 2_000,
    "check_quality": 300,
    "build_gold": 600,
    "publish_ai_ready": 600,
}
DEFAULT_MICROSECONDS_PER_ROW = 1_000


def execution_timeout(stage: str, expected_rows: int) -> timedelta:
    """The ``execution_timeout`` of ``stage`` for a table of ``expected_rows`` rows per day."""
    if stage == "wait_for_source":
        return POKE
    per_row = MICROSECONDS_PER_ROW.get(stage, DEFAULT_MICROSECONDS_PER_ROW)
    return BASE + timedelta(microseconds=per_row * max(expected_rows, 0))
