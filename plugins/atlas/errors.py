"""Atlas error types.

Retry policy is chosen by base class: ``AtlasTransientError`` subclasses Airflow's
``AirflowException`` (retried), the others subclass ``AirflowFailException`` (fail fast,
no retries burned) when Airflow is importable.
"""

from __future__ import annotations

try:  # Airflow is optional for the plain-Python libraries
    from airflow.sdk.exceptions import AirflowException, AirflowFailException
except ImportError:  # pragma: no cover - exercised only without Airflow installed
    AirflowException = RuntimeError  # type: ignore[misc,assignment]
    AirflowFailException = RuntimeError  # type: ignore[misc,assignment]


class AtlasError(Exception):
    """Base class of every error Atlas raises on purpose."""


class AtlasConfigError(AtlasError, AirflowFailException):
    """A table config is invalid. Names the file and the offending field."""

    def __init__(self, file: str, field: str, message: str) -> None:
        self.file, self.field, self.message = file, field, message
        super().__init__(f"{file}: {field}: {message}")


class AtlasInputError(AtlasError, AirflowFailException):
    """A landed file cannot be read as configured (names file, row and column)."""


class AtlasSourceError(AtlasInputError):
    """A source path or ``source_file`` param names files outside the allowed roots (refused
    before anything is opened)."""


class AtlasStorageError(AtlasInputError):
    """The landing storage cannot be read for a reason waiting cannot fix (no such bucket,
    access denied, no credentials)."""


class AtlasQualityGateError(AtlasError, AirflowFailException):
    """One or more fail-severity quality checks failed; lists every one."""


class AtlasRowRuleError(AtlasError, AirflowFailException):
    """A row rule with action ``fail`` was broken."""


class AtlasReconciliationError(AtlasError, AirflowFailException):
    """Row counts between layers do not reconcile."""


class AtlasPiiLeakError(AtlasError, AirflowFailException):
    """Raw PII was found downstream of bronze. Never carries the values."""


class AtlasTransientError(AtlasError, AirflowException):
    """A failure worth retrying (connection refused, timeout, serialization failure)."""
