"""Failure callbacks for a table's DAG (email and Slack notifiers, when their connections exist)."""

from __future__ import annotations

from typing import Any

from atlas.config import TableSpec


def failure_callbacks(spec: TableSpec) -> list[Any]:
    """Notifiers to call when a task fails (filled in by the alerting module)."""
    return []
