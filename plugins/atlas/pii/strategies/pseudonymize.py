"""pseudonymize: keyed HMAC-SHA256 token, identical across tables and runs (joins survive)."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Any

from atlas.pii.anonymizer import KeyedPseudonym
from atlas.pii.pseudonym import TOKEN_HEX_CHARS, TOKEN_PREFIX
from atlas.pii.strategies.base import Strategy


class Pseudonymize(Strategy):
    """``ps_`` + 32 hex characters (exactly :func:`atlas.pii.pseudonym.pseudonymize`); in free
    text each span becomes its token."""

    name = "pseudonymize"
    operator_class = KeyedPseudonym

    def operator_params(self) -> dict[str, Any]:
        return {"keys": self.context.keys}

    def column(self, values: Sequence[str | None]) -> list[str | None]:
        """Each distinct value's token computed once, straight with ``hmac.digest`` (the operator's
        own computation, without a call through the operator per value)."""
        key = self.context.keys.hmac_key
        mapping = {v: TOKEN_PREFIX + hmac.digest(key, v.encode("utf-8"), "sha256").hex()[:TOKEN_HEX_CHARS]
                   for v in set(values) if v is not None and v.strip()}
        return [mapping.get(v, v) if v is not None else None for v in values]
