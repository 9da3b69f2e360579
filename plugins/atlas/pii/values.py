"""Cell values as text: None, NaN and pandas' NA are missing; anything else becomes str."""

from __future__ import annotations

import math
from typing import Any


def as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ in {"NAType", "NaTType"}:
        return None
    return str(value)
