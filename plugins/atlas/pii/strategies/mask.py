"""mask: every character but the last ``keep_last`` becomes ``*``."""

from __future__ import annotations

from atlas.pii.strategies.base import Strategy

MASK_CHAR = "*"


def mask_text(value: str, keep_last: int) -> str:
    visible = min(keep_last, len(value) // 2)  # never reveal more than half of a short value
    return MASK_CHAR * (len(value) - visible) + (value[len(value) - visible :] if visible else "")


class Mask(Strategy):
    """``+45 20 30 40 50`` with keep_last 2 -> ``*************50``."""

    name = "mask"

    def value(self, value: str) -> str:
        return mask_text(value, int(self.context.option("keep_last", 4)))

    def span(self, text: str, entity: str) -> str:
        return mask_text(text, int(self.context.option("keep_last", 4)))
