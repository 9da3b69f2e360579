"""mask: every character but the last ``keep_last`` becomes ``*`` (Presidio's mask operator)."""

from __future__ import annotations

from typing import Any

from atlas.pii.anonymizer import MASK_CHAR, KeepLastMask, mask_text
from atlas.pii.strategies.base import Strategy

__all__ = ["MASK_CHAR", "Mask", "mask_text"]


class Mask(Strategy):
    """``+45 20 30 40 50`` with keep_last 2 -> ``*************50``."""

    name = "mask"
    operator_class = KeepLastMask

    def operator_params(self) -> dict[str, Any]:
        return {"keep_last": int(self.context.option("keep_last", 4)), "masking_char": MASK_CHAR}
