"""Request parameters of the page and the JSON API, checked at the edge into plain values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from atlas.config import TableSpec
from atlas.errors import AtlasError

DS_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LATEST = "latest"
DEFAULT_DAYS, MAX_DAYS = 14, 366
SECTIONS = ("runs", "layers", "quarantine", "pii", "quality", "outputs", "lineage")


class BadRequest(AtlasError):
    """A parameter the dashboard cannot use; the message says which and why (HTTP 400)."""


def _shown(value: str, limit: int = 40) -> str:
    """A user-supplied value, quoted and shortened, safe to repeat in an error message."""
    text = value if len(value) <= limit else value[:limit] + "..."
    return repr(text)


def parse_table(value: str | None, specs: Mapping[str, TableSpec]) -> TableSpec:
    """The configured table called ``value``; the first table (by name) when ``value`` is empty."""
    if not specs:
        raise BadRequest("no tables are configured (include/tables/*.yml)")
    if not value:
        return specs[min(specs)]
    if value not in specs:
        raise BadRequest(f"unknown table {_shown(value)} (known: {', '.join(sorted(specs))})")
    return specs[value]


def parse_ds(value: str | None) -> str | None:
    """A logical date as YYYY-MM-DD, or None for the latest date with data (empty or ``latest``)."""
    if not value or value == LATEST:
        return None
    if not DS_FORMAT.match(value):
        raise BadRequest(f"malformed date {_shown(value)}: expected YYYY-MM-DD or '{LATEST}'")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise BadRequest(f"malformed date {_shown(value)}: no such calendar day") from None


def parse_days(value: str | None) -> int:
    """Days of quality trend to show, 1..366 (default 14)."""
    if value is None or value == "":
        return DEFAULT_DAYS
    if not value.isdigit() or not 1 <= int(value) <= MAX_DAYS:
        raise BadRequest(f"malformed days {_shown(value)}: expected a whole number from 1 to {MAX_DAYS}")
    return int(value)


def parse_section(value: str) -> str:
    if value not in SECTIONS:
        raise BadRequest(f"unknown section {_shown(value)} (known: {', '.join(SECTIONS)})")
    return value
