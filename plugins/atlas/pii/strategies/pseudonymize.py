"""pseudonymize: keyed HMAC-SHA256 token, identical across tables and runs (joins survive)."""

from __future__ import annotations

from atlas.pii.pseudonym import pseudonymize
from atlas.pii.strategies.base import Strategy


class Pseudonymize(Strategy):
    """``ps_`` + 32 hex characters; in free text each span becomes its token."""

    name = "pseudonymize"

    def value(self, value: str) -> str:
        return pseudonymize(value, self.context.keys.hmac_key)

    def span(self, text: str, entity: str) -> str:
        return pseudonymize(text, self.context.keys.hmac_key)
