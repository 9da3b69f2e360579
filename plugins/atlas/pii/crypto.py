"""Reversible encryption of values (Fernet: AES-128-CBC + HMAC-SHA256, from ``cryptography``).

Encrypting uses the current key; decrypting accepts the current and any previous keys, so a
key rotation can re-encrypt stored tokens while both keys are configured.
"""

from __future__ import annotations

from typing import Any

from atlas.pii.keys import PiiKeys


def _fernet(keys: PiiKeys) -> Any:
    from cryptography.fernet import Fernet, MultiFernet

    return MultiFernet([Fernet(k) for k in (keys.encryption_key, *keys.previous_encryption_keys)])


def encrypt_value(value: str, keys: PiiKeys) -> str:
    """A Fernet token (url-safe text, different each call) that decrypts to ``value``."""
    return _fernet(keys).encrypt(value.encode("utf-8")).decode("ascii")


def encrypt_values(values: list[str | None], keys: PiiKeys) -> list[str | None]:
    fernet = _fernet(keys)
    return [None if v is None else fernet.encrypt(v.encode("utf-8")).decode("ascii") for v in values]


def decrypt_value(token: str, keys: PiiKeys) -> str:
    """The plaintext of a token made by :func:`encrypt_value` under the current or a previous key.

    Raises :class:`ValueError` (without the token) when no configured key opens it.
    """
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(keys).decrypt(token.strip().encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise ValueError("token cannot be decrypted with the configured keys") from None


def rotate_token(token: str, keys: PiiKeys) -> str:
    """Re-encrypt a token under the current key (it may have been made with a previous one)."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(keys).rotate(token.strip().encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError):
        raise ValueError("token cannot be decrypted with the configured keys") from None
