"""Retries that mean something: transient errors retry with exponential backoff, permanent ones fail fast.

:class:`AtlasRetryPolicy` is an Airflow retry policy (``BaseOperator(retry_policy=...)``), set for
every task of a table's DAG through ``default_args``. Airflow evaluates it in the worker with the
real exception:

- **transient** (connection refused/reset, timeouts, serialization failures, deadlocks, a database
  restarting) → RETRY after ``base * multiplier ** (try_number - 1)``, capped at ``max_delay``;
- **permanent** (bad config, a malformed file, a failed quality gate, programming errors) → FAIL
  now, without burning the remaining retries;
- anything else → Airflow's standard retries (same exponential backoff, from ``default_args``).

This is the one place that decides: Atlas's libraries raise plain :mod:`atlas.errors`, and a
warehouse error reaches the policy as :class:`~atlas.errors.AtlasDatabaseError` carrying the
driver error's class names (``origin``), so it is classified like the original. Classes are
matched by dotted name along the exception's MRO, so building the policy imports nothing (DAG
parsing stays cheap) and optional libraries (botocore, pyarrow) need not be installed.
"""

from __future__ import annotations

import errno
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from airflow.sdk.definitions.retry_policy import RetryDecision, RetryPolicy

if TYPE_CHECKING:
    from airflow.sdk import Context

    from atlas.config import TableSpec

Kind = Literal["transient", "permanent", "unknown"]

TRANSIENT: frozenset[str] = frozenset({
    "atlas.errors.AtlasTransientError",
    "builtins.ConnectionError",  # refused, reset, aborted, broken pipe
    "builtins.TimeoutError",  # includes socket.timeout
    "psycopg2.OperationalError",  # connection lost, admin shutdown, lock/statement timeout
    "psycopg2.extensions.TransactionRollbackError",  # serialization failure, deadlock
    "botocore.exceptions.ConnectionError",
    "botocore.exceptions.ConnectTimeoutError",
    "botocore.exceptions.ReadTimeoutError",
    "urllib3.exceptions.TimeoutError",
    "urllib3.exceptions.ProtocolError",
    "requests.exceptions.ConnectionError",
    "requests.exceptions.Timeout",
    "httpx.TransportError",
})

PERMANENT: frozenset[str] = frozenset({
    "atlas.errors.AtlasError",  # config, input, source, quality gate, reconciliation, PII leak (transient first)
    "airflow.sdk.exceptions.AirflowFailException",
    "airflow.sdk.exceptions.AirflowSensorTimeout",
    "pydantic_core._pydantic_core.ValidationError",
    "yaml.error.YAMLError",
    "jinja2.exceptions.TemplateError",
    "psycopg2.ProgrammingError",  # bad SQL or schema: retrying runs the same statement
    "psycopg2.DataError",
    "psycopg2.IntegrityError",
    "builtins.ValueError",  # includes UnicodeDecodeError, JSONDecodeError, pyarrow ArrowInvalid
    "builtins.TypeError",
    "builtins.KeyError",
    "builtins.IndexError",
    "builtins.AttributeError",
    "builtins.NameError",
    "builtins.NotImplementedError",
    "builtins.ImportError",
    "builtins.AssertionError",
    "builtins.ZeroDivisionError",
    "builtins.FileNotFoundError",
    "builtins.PermissionError",
    "builtins.IsADirectoryError",
    "_csv.Error",
})

#: OSError errnos that mean "the other side is unreachable right now".
TRANSIENT_ERRNOS: frozenset[int] = frozenset({
    errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT,
    errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN, errno.EAGAIN,
})

#: Connection failures that are configuration mistakes: retrying cannot fix them.
PERMANENT_MESSAGES = re.compile(
    r"authentication failed|no pg_hba\.conf entry|role \".*\" does not exist"
    r"|database \".*\" does not exist|invalid dsn|invalid connection option",
    re.IGNORECASE,
)


def _names(exc: BaseException) -> set[str]:
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in type(exc).__mro__}
    return names | set(getattr(exc, "origin", ()))  # AtlasDatabaseError: the driver error's classes


def classify(exc: BaseException) -> Kind:
    """``transient``, ``permanent`` or ``unknown`` for one exception (first line checked only for
    connection errors that are really bad credentials or a wrong database name)."""
    names = _names(exc)
    if names & TRANSIENT:
        first_line = (str(exc).strip().splitlines() or [""])[0]
        return "permanent" if PERMANENT_MESSAGES.search(first_line) else "transient"
    if isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS:
        return "transient"
    if names & PERMANENT:
        return "permanent"
    return "unknown"


class AtlasRetryPolicy(RetryPolicy):
    """Transient → retry with exponential backoff; permanent → fail now; unknown → Airflow default.

    :param base_delay: delay before the first retry.
    :param max_delay: upper bound of any delay.
    :param multiplier: growth factor per try.
    """

    def __init__(self, base_delay: timedelta = timedelta(seconds=30),
                 max_delay: timedelta = timedelta(minutes=10), multiplier: float = 2.0) -> None:
        if multiplier < 1:
            raise ValueError("multiplier must be >= 1")
        self.base_delay, self.max_delay, self.multiplier = base_delay, max_delay, multiplier

    def delay(self, try_number: int) -> timedelta:
        """Delay after failed try ``try_number`` (1-based)."""
        seconds = self.base_delay.total_seconds() * self.multiplier ** max(try_number - 1, 0)
        return timedelta(seconds=min(seconds, self.max_delay.total_seconds()))

    def evaluate(self, exception: BaseException, try_number: int, max_tries: int,
                 context: Context | None = None) -> RetryDecision:
        kind = classify(exception)
        name = type(exception).__name__
        if kind == "permanent":
            return RetryDecision.fail(reason=f"permanent {name}: failing without retries")
        if kind == "transient":
            delay = self.delay(try_number)
            return RetryDecision.retry(
                delay=delay, reason=f"transient {name}: retry after try {try_number} of {max_tries + 1} "
                                    f"in {delay.total_seconds():g}s")
        return RetryDecision.default()

    def serialize(self) -> dict[str, Any]:
        return {"__type": "AtlasRetryPolicy", "base_delay": self.base_delay.total_seconds(),
                "max_delay": self.max_delay.total_seconds(), "multiplier": self.multiplier}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> AtlasRetryPolicy:
        return cls(timedelta(seconds=data["base_delay"]), timedelta(seconds=data["max_delay"]),
                   data.get("multiplier", 2.0))

    def __repr__(self) -> str:
        return (f"AtlasRetryPolicy(base_delay={self.base_delay}, max_delay={self.max_delay}, "
                f"multiplier={self.multiplier})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AtlasRetryPolicy) and self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash(tuple(self.serialize().items()))


def retry_policy(spec: TableSpec) -> AtlasRetryPolicy:
    """The policy for a table's tasks, from its ``retry_delay_seconds`` / ``max_retry_delay_seconds``."""
    return AtlasRetryPolicy(base_delay=timedelta(seconds=spec.retry_delay_seconds),
                            max_delay=timedelta(seconds=spec.max_retry_delay_seconds))
