"""encrypt: reversible Fernet token; authorized users decrypt with ``python -m atlas.pii.decrypt``."""

from __future__ import annotations

from typing import Any

from atlas.pii.anonymizer import FernetEncrypt
from atlas.pii.strategies.base import Strategy


class Encrypt(Strategy):
    """A fresh token per value (equal values do not give equal tokens)."""

    name = "encrypt"
    deterministic = False
    operator_class = FernetEncrypt

    def operator_params(self) -> dict[str, Any]:
        return {"keys": self.context.keys}
