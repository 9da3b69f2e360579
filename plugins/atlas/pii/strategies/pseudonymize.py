"""pseudonymize: keyed HMAC-SHA256 token, identical across tables and runs (joins survive)."""

from __future__ import annotations

from typing import Any

from atlas.pii.anonymizer import KeyedPseudonym
from atlas.pii.strategies.base import Strategy


class Pseudonymize(Strategy):
    """``ps_`` + 32 hex characters (exactly :func:`atlas.pii.pseudonym.pseudonymize`); in free
    text each span becomes its token."""

    name = "pseudonymize"
    operator_class = KeyedPseudonym

    def operator_params(self) -> dict[str, Any]:
        return {"keys": self.context.keys}
