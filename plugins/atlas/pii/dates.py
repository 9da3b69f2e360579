"""Lenient date parsing for dates of birth written in common formats."""

from __future__ import annotations

import re
from datetime import date

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})(?:[T ].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_date(value: str) -> date | None:
    """``1987-03-14`` (optionally with a time), ``14-03-1987``, ``14.03.1987``, ``14/03/1987``,
    ``19870314``; None when the value is not a real date."""
    text = value.strip()
    for pattern, order in ((_ISO, "ymd"), (_DAY_FIRST, "dmy"), (_COMPACT, "ymd")):
        match = pattern.match(text)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
            try:
                return date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                return None
    return None


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
