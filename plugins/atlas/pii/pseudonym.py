"""Keyed, deterministic pseudonyms (HMAC-SHA256).

The same value under the same key gives the same token in every table, column and run, so
joins on pseudonymized keys survive; without the key the token cannot be reversed or
recomputed by enumerating likely values (unlike a plain hash).
"""

from __future__ import annotations

import hashlib
import hmac

TOKEN_PREFIX = "ps_"  # noqa: S105 - a token prefix, not a secret
TOKEN_HEX_CHARS = 32  # 128 bits: collisions negligible at any realistic table size


def pseudonymize(value: str, key: bytes) -> str:
    """Deterministic token for ``value`` under ``key``: ``ps_`` + 32 hex characters."""
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return TOKEN_PREFIX + digest[:TOKEN_HEX_CHARS]
