"""Danish CPR numbers (DDMMYY-XXXX): the birth date they encode, shared by validation and detection."""

from __future__ import annotations

import re
from datetime import date

_DIGITS = re.compile(r"\D")
_SHAPE = re.compile(r"^\d{6}-?\d{4}$")


def cpr_birth_date(text: str) -> date | None:
    """Birth date encoded in a CPR number, or None when the digits do not form a real date.

    The century follows from the first serial digit (the CPR office's rule): 0-3 -> 1900s;
    4 and 9 -> 2000s for years 00-36, else 1900s; 5-8 -> 2000s for 00-57, else 1800s.
    """
    digits = _DIGITS.sub("", text)
    if len(digits) != 10:
        return None
    day, month, yy, serial = int(digits[0:2]), int(digits[2:4]), int(digits[4:6]), int(digits[6])
    if serial <= 3:
        century = 1900
    elif serial in (4, 9):
        century = 2000 if yy <= 36 else 1900
    else:
        century = 2000 if yy <= 57 else 1800
    try:
        return date(century + yy, month, day)
    except ValueError:
        return None


def normalize_cpr(value: str) -> str | None:
    """``DDMMYY-XXXX`` for a well-formed CPR with a real date, else None."""
    value = value.strip()
    if not _SHAPE.match(value) or cpr_birth_date(value) is None:
        return None
    digits = value.replace("-", "")
    return f"{digits[:6]}-{digits[6:]}"
