"""encrypt: reversible Fernet token; authorized users decrypt with ``python -m atlas.pii.decrypt``."""

from __future__ import annotations

from collections.abc import Sequence

from atlas.pii.crypto import encrypt_value, encrypt_values
from atlas.pii.strategies.base import Strategy


class Encrypt(Strategy):
    """A fresh token per value (equal values do not give equal tokens)."""

    name = "encrypt"
    deterministic = False

    def value(self, value: str) -> str:
        return encrypt_value(value, self.context.keys)

    def column(self, values: Sequence[str | None]) -> list[str | None]:
        blank = {i for i, v in enumerate(values) if v is not None and not v.strip()}
        encrypted = encrypt_values([None if i in blank else v for i, v in enumerate(values)], self.context.keys)
        return [values[i] if i in blank else e for i, e in enumerate(encrypted)]

    def span(self, text: str, entity: str) -> str:
        return encrypt_value(text, self.context.keys)
