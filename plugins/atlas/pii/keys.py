"""PII keys from Airflow's secrets: connection ``atlas_pii_key``.

* ``password``: the HMAC key for pseudonyms (at least 16 bytes of secret).
* ``extra.encryption_key``: a Fernet key for the ``encrypt`` strategy.
* ``extra.previous_encryption_keys`` (optional): older Fernet keys, still accepted for
  decryption during a key rotation.

Resolution order: the environment variable ``AIRFLOW_CONN_ATLAS_PII_KEY`` (Airflow's JSON or
URI form), then ``airflow.sdk.BaseHook.get_connection`` (any configured secrets backend) when
running inside a task. Missing or malformed keys raise :class:`AtlasConfigError` at once; the
messages name the connection and the field, never a key.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from atlas import settings

ENV_VAR = "AIRFLOW_CONN_" + settings.PII_KEY_CONN_ID.upper()
MIN_HMAC_KEY_BYTES = 16
_WHERE = f"connection {settings.PII_KEY_CONN_ID}"


def _error(field: str, message: str) -> Exception:
    """An AtlasConfigError (imported lazily: atlas.errors loads Airflow, which the decrypt CLI
    and ``import atlas.pii`` should not pay for)."""
    from atlas.errors import AtlasConfigError

    return AtlasConfigError(_WHERE, field, message)


@dataclass(frozen=True)
class PiiKeys:
    """Secret keys for pseudonyms and encryption. ``repr`` never shows them."""

    hmac_key: bytes = field(repr=False)
    encryption_key: bytes = field(repr=False)
    previous_encryption_keys: tuple[bytes, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if len(self.hmac_key) < MIN_HMAC_KEY_BYTES:
            raise _error("password", f"HMAC key must be at least {MIN_HMAC_KEY_BYTES} bytes")
        for name, key in [("encryption_key", self.encryption_key)] + [
            ("previous_encryption_keys", k) for k in self.previous_encryption_keys
        ]:
            if not _is_fernet_key(key):
                raise _error(f"extra.{name}", "not a valid Fernet key (32 url-safe base64 bytes)")


def _is_fernet_key(key: bytes) -> bool:
    from cryptography.fernet import Fernet

    try:
        Fernet(key)
    except (ValueError, TypeError):
        return False
    return True


def generate_keys() -> PiiKeys:
    """Fresh random keys (for tests, local setups and key rotation)."""
    import secrets

    from cryptography.fernet import Fernet

    return PiiKeys(hmac_key=secrets.token_urlsafe(32).encode(), encryption_key=Fernet.generate_key())


def connection_json(keys: PiiKeys) -> str:
    """Airflow JSON form of the connection (e.g. for ``AIRFLOW_CONN_ATLAS_PII_KEY``)."""
    extra: dict[str, Any] = {"encryption_key": keys.encryption_key.decode()}
    if keys.previous_encryption_keys:
        extra["previous_encryption_keys"] = [k.decode() for k in keys.previous_encryption_keys]
    return json.dumps({"conn_type": "generic", "password": keys.hmac_key.decode(), "extra": extra})


def _parse_env_value(raw: str) -> tuple[str | None, dict[str, Any]]:
    """(password, extra) from Airflow's JSON or URI connection form."""
    raw = raw.strip()
    if raw.startswith("{"):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            raise _error(ENV_VAR, "not valid JSON") from None
        extra = data.get("extra") or {}
        if isinstance(extra, str):
            try:
                extra = json.loads(extra)
            except json.JSONDecodeError:
                raise _error("extra", "not valid JSON") from None
        return data.get("password"), dict(extra)
    parts = urlsplit(raw)
    if not parts.scheme:
        raise _error(ENV_VAR, "expected Airflow's JSON or URI connection form")
    password = unquote(parts.password) if parts.password is not None else None
    extra: dict[str, Any] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == "__extra__":
            try:
                extra.update(json.loads(value))
            except json.JSONDecodeError:
                raise _error("extra", "not valid JSON") from None
        else:
            extra[name] = value
    return password, extra


def _from_airflow() -> tuple[str | None, dict[str, Any]] | None:
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(settings.PII_KEY_CONN_ID)
    except Exception:  # noqa: BLE001 - no Airflow, no task context or no such connection
        return None
    return conn.password, dict(conn.extra_dejson or {})


def _previous_keys(value: Any) -> tuple[bytes, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    return tuple(str(v).encode() for v in value)


def load_keys() -> PiiKeys:
    """The PII keys; raises :class:`AtlasConfigError` when absent or invalid (fail fast)."""
    raw = os.environ.get(ENV_VAR)
    resolved = _parse_env_value(raw) if raw else _from_airflow()
    if resolved is None:
        raise _error(
            "<connection>", f"not configured: set {ENV_VAR} or create the Airflow connection"
        )
    password, extra = resolved
    if not password:
        raise _error("password", "missing (the HMAC key for pseudonyms)")
    encryption_key = extra.get("encryption_key")
    if not encryption_key:
        raise _error("extra.encryption_key", "missing (a Fernet key for the encrypt strategy)")
    return PiiKeys(
        hmac_key=password.encode("utf-8"),
        encryption_key=str(encryption_key).encode("utf-8"),
        previous_encryption_keys=_previous_keys(extra.get("previous_encryption_keys")),
    )
