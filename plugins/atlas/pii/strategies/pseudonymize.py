"""pseudonymize: keyed HMAC-SHA256 token, identical across tables and runs (joins survive)."""

from __future__ import annotations

import hmac

from atlas.pii.pseudonym import TOKEN_HEX_CHARS, TOKEN_PREFIX, pseudonymize
from atlas.pii.strategies.base import Strategy


class Pseudonymize(Strategy):
    """``ps_`` + 32 hex characters (exactly :func:`atlas.pii.pseudonym.pseudonymize`, computed
    with the one-shot ``hmac.digest`` for speed); in free text each span becomes its token."""

    name = "pseudonymize"

    def value(self, value: str) -> str:
        return TOKEN_PREFIX + hmac.digest(self.context.keys.hmac_key, value.encode("utf-8"), "sha256").hex()[
            :TOKEN_HEX_CHARS
        ]

    def span(self, text: str, entity: str) -> str:
        return pseudonymize(text, self.context.keys.hmac_key)
