"""Keep Soda offline and quiet: no usage telemetry, no failed-row samples, no row values in logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from atlas import settings

# A quoted name after one of these words is an identifier in PostgreSQL's messages; any other
# quoted text may be a value ('invalid input syntax for type integer: "abc"').
_QUOTED = re.compile(
    r"(?P<kind>\b(?:relation|column|schema|table|type|view|function|database|role)\s+)?(?P<q>\"[^\"]*\"|'[^']*')"
)


def soda_config_file() -> str:
    """Atlas's Soda user config (``send_anonymous_usage_stats: false``), read instead of ~/.soda."""
    return str(settings.include_dir() / "soda" / "soda_config.yml")


def disable_telemetry() -> None:
    """Make Soda's config and telemetry singletons opt out before any scan is created."""
    from atlas.compat import soda_telemetry_off

    soda_telemetry_off(soda_config_file())


def count_only_sampler() -> Any:
    """A Soda sampler that keeps failed-row counts and drops every row."""
    from soda.sampler.sample_ref import SampleRef
    from soda.sampler.sampler import Sampler

    class CountOnlySampler(Sampler):
        def store_sample(self, sample_context: Any) -> SampleRef:
            return SampleRef(
                name=sample_context.sample_name,
                schema=None,
                total_row_count=sample_context.sample.get_rows_count(),
                stored_row_count=0,
                type=SampleRef.TYPE_NOT_PERSISTED,
                message="failed-row samples are disabled in Atlas",
            )

    return CountOnlySampler()


@contextmanager
def quiet_soda_logs() -> Iterator[None]:
    """Soda logs queries and database errors (which can quote values); keep them out of task logs."""
    soda_logger = logging.getLogger("soda")
    level = soda_logger.level
    soda_logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        soda_logger.setLevel(level)


def sanitize(message: str, identifiers: set[str]) -> str:
    """First line of a Soda/database error with quoted text redacted unless it is a known identifier."""
    first = message.strip().splitlines()[0] if message.strip() else ""

    def _keep(match: re.Match[str]) -> str:
        kind, quoted = match.group("kind") or "", match.group("q")
        if kind or quoted[1:-1] in identifiers:
            return match.group(0)
        return f"{quoted[0]}…{quoted[-1]}"

    return _QUOTED.sub(_keep, first)[:300]
