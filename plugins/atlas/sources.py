"""Which files a run may read: the landing root, plus an explicit allow-list, and nothing else.

A run's ``source_file`` param is hostile data. It is used literally (never rendered as a
template) and must name files under the landing root (or a root in the table's
``source.allowed_roots``): no ``..`` segment, no absolute path, no other scheme, bucket or
host, no symlink leading out of a root. Everything here runs before a file is opened or
archived. Errors name the param and quote at most :data:`MAX_SHOWN` characters of its value.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import unquote, urlsplit

from atlas.errors import AtlasError, AtlasSourceError, AtlasStorageError

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

MAX_SHOWN = 120
SCHEMES = {"file": "file", "s3": "s3", "s3a": "s3"}
LOCAL_PROTOCOLS = frozenset({"file", "local", ""})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: Storage failures that waiting or retrying cannot fix (matched by class name along the MRO).
PERMANENT_STORAGE_ERRORS = frozenset({
    "NoCredentialsError", "PartialCredentialsError", "NoRegionError", "ProfileNotFound",
    "AirflowNotFoundException", "PermissionError", "FileNotFoundError", "NotADirectoryError",
})


class Root(NamedTuple):
    """A storage root as (scheme, bucket or host, normalised absolute path)."""

    scheme: str
    netloc: str
    path: str

    def contains(self, other: Root) -> bool:
        if (self.scheme, self.netloc) != (other.scheme, other.netloc):
            return False
        base = self.path.rstrip("/")
        return other.path == self.path or other.path.startswith(base + "/")

    def url(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.path}"


def shown(value: object) -> str:
    """A param value quoted for an error message, cut to :data:`MAX_SHOWN` characters."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 4] + "...'"


def parse_root(url: str) -> Root:
    """A file:// or s3:// URL as a :class:`Root` (``s3a`` is ``s3``; ``file://localhost`` is local)."""
    parts = urlsplit(url)
    scheme = SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise ValueError(f"unsupported scheme in {url!r}")
    netloc = parts.netloc
    if scheme == "file" and netloc in ("", "localhost"):
        netloc = ""
    path = posixpath.normpath(parts.path or "/")
    if not path.startswith("/"):
        path = "/" + path
    return Root(scheme, netloc, "/" if path == "//" else path)


def roots(landing_url: str, allowed_roots: Sequence[str] = ()) -> list[Root]:
    """The landing root and the allow-listed roots, in that order."""
    return [parse_root(landing_url), *(parse_root(url) for url in allowed_roots)]


def _refuse(what: str, value: str, why: str) -> AtlasSourceError:
    return AtlasSourceError(f"{what} {shown(value)} refused: {why}")


def check_source(value: object, landing_url: str, allowed_roots: Sequence[str] = (),
                 param: str | None = None) -> str:
    """``value`` if it may name files to ingest, else :class:`AtlasSourceError` (nothing opened).

    Relative values are globs under the landing root; URLs must lie under a root.
    """
    what = f"param {param}" if param else "source path"
    if not isinstance(value, str) or not value.strip():
        raise AtlasSourceError(f"{what} must be a non-empty string")
    if value != value.strip() or _CONTROL.search(value):
        raise _refuse(what, value, "leading/trailing whitespace or control characters")
    if "\\" in value:
        raise _refuse(what, value, "backslashes are not path separators here; use '/'")
    for candidate in {value, unquote(value)}:
        if ".." in candidate.split("/"):
            raise _refuse(what, value, "'..' segments are not allowed")
    if "://" not in value:
        if value.startswith(("/", "~")):
            raise _refuse(what, value, "an absolute path; give a path relative to the landing root "
                                       f"({landing_url}) or a URL under it")
        return value
    try:
        target = parse_root(value)
    except ValueError:
        scheme = value.split("://", 1)[0]
        raise _refuse(what, value, f"scheme {shown(scheme)} is not allowed (file:// or s3:// only)") from None
    allowed = roots(landing_url, allowed_roots)
    if not any(root.contains(target) for root in allowed):
        listed = ", ".join(root.url() for root in allowed)
        raise _refuse(what, value, f"outside the landing root and source.allowed_roots ({listed})")
    return value


def root_of(value: str, landing_url: str, allowed_roots: Sequence[str] = ()) -> str:
    """URL of the root that contains ``value`` (a URL already accepted by :func:`check_source`)."""
    target = parse_root(value)
    return next(root.url() for root in roots(landing_url, allowed_roots) if root.contains(target))


def check_contained(path: ObjectStoragePath, landing_url: str, allowed_roots: Sequence[str] = ()) -> None:
    """Refuse a found file whose real location is outside every root (a symlink out of the root)."""
    if path.protocol not in LOCAL_PROTOCOLS:
        target = parse_root(f"{path.protocol}://{path.path}")
        if not any(root.contains(target) for root in roots(landing_url, allowed_roots)):
            raise AtlasSourceError(f"{shown(str(path))} is outside the landing root")
        return
    real = os.path.realpath(path.path)
    local = [os.path.realpath(r.path) for r in roots(landing_url, allowed_roots) if r.scheme == "file"]
    if not any(real == base or real.startswith(base.rstrip("/") + "/") for base in local):
        raise AtlasSourceError(f"{shown(str(path))} resolves outside the landing root "
                               "(a symlink out of it); refused before reading")


def check_root_reachable(root: ObjectStoragePath) -> None:
    """Raise for a bucket that does not exist or cannot be read; a local root may not exist yet."""
    if root.protocol in LOCAL_PROTOCOLS:
        return
    bucket = root.path.split("/", 1)[0]
    root.fs.ls(bucket, refresh=True)  # FileNotFoundError / PermissionError / NoCredentialsError


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


@contextmanager
def storage_errors(url: str) -> Iterator[None]:
    """Turn permanent storage failures (no such bucket, access denied, no credentials, missing
    connection) into :class:`AtlasStorageError`; transient ones pass through for retries."""
    try:
        yield
    except AtlasError:
        raise
    except Exception as exc:
        if not _names(exc) & PERMANENT_STORAGE_ERRORS:
            raise
        reason = (str(exc).strip().splitlines() or [""])[0][:200]
        raise AtlasStorageError(f"cannot read {url}: {type(exc).__name__}: {reason}") from None
