"""Atlas error types: plain exceptions, free of Airflow.

Whether a failure is retried is decided in one place, at the Airflow edge: the retry policy
(:mod:`atlas.retry`) classifies every exception by its class. Libraries raise these errors and
never choose a retry behaviour themselves.
"""

from __future__ import annotations


class AtlasError(Exception):
    """Base class of every error Atlas raises on purpose (permanent unless a subclass says so)."""


class AtlasConfigError(AtlasError):
    """A table config is invalid. Names the file and the offending field."""

    def __init__(self, file: str, field: str, message: str) -> None:
        self.file, self.field, self.message = file, field, message
        super().__init__(f"{file}: {field}: {message}")


class AtlasInputError(AtlasError):
    """A landed file cannot be read as configured (names file, row and column)."""


class AtlasSourceError(AtlasInputError):
    """A source path or ``source_file`` param names files outside the allowed roots (refused
    before anything is opened)."""


class AtlasStorageError(AtlasInputError):
    """The landing storage cannot be read for a reason waiting cannot fix (no such bucket,
    access denied, no credentials)."""


class AtlasQualityGateError(AtlasError):
    """One or more fail-severity quality checks failed; lists every one."""


class AtlasRowRuleError(AtlasError):
    """A row rule with action ``fail`` was broken."""


class AtlasReconciliationError(AtlasError):
    """Row counts between layers do not reconcile."""


class AtlasInputsMissingError(AtlasError):
    """A gold model's input tables are not (all) in for the run's date."""


class AtlasPiiLeakError(AtlasError):
    """Raw PII was found downstream of bronze. Never carries the values."""


class AtlasTransientError(AtlasError):
    """A failure worth retrying (connection refused, timeout, serialization failure)."""


class AtlasDatabaseError(AtlasError):
    """A warehouse error with a message safe to log: driver messages can quote row values, so
    only the error's name and SQLSTATE are kept (plus the first line of connection errors,
    which name hosts, not rows). ``origin`` holds the driver error's class names, so the retry
    policy classifies it like the original error."""

    def __init__(self, message: str, origin: frozenset[str] = frozenset()) -> None:
        super().__init__(message)
        self.origin = origin

    @classmethod
    def from_driver(cls, exc: BaseException) -> AtlasDatabaseError:
        import psycopg2
        from psycopg2 import errorcodes

        origin = frozenset(f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__)
        code = getattr(exc, "pgcode", None)
        if isinstance(exc, psycopg2.OperationalError) and (code is None or code[:2] in ("08", "57", "53")):
            first = (str(exc).strip().splitlines() or [""])[0]
            return cls(f"{type(exc).__name__}: {first}", origin)
        name = (errorcodes.lookup(code) if code else type(exc).__name__).lower().replace("_", " ")
        return cls(f"the warehouse refused a statement ({name}, SQLSTATE {code}); the transaction was "
                   "rolled back and nothing was published; row values are not shown", origin)


class AtlasErasureError(AtlasError):
    """An erasure request is invalid or could not be completed. Never carries the key value."""
