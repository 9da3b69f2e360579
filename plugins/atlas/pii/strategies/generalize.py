"""generalize: date of birth -> year or age band; postal code -> prefix."""

from __future__ import annotations

from datetime import UTC, datetime

from atlas.pii.dates import age_on, parse_date
from atlas.pii.entities import POSTAL_CODE, tag
from atlas.pii.strategies.base import Strategy

AGE_BAND_WIDTH = 10
OPEN_AGE_BAND = 90  # everyone this old or older shares one band ("90+")


def age_band(age: int) -> str:
    if age >= OPEN_AGE_BAND:
        return f"{OPEN_AGE_BAND}+"
    low = max(age, 0) // AGE_BAND_WIDTH * AGE_BAND_WIDTH
    return f"{low}-{low + AGE_BAND_WIDTH - 1}"


def postal_prefix(value: str, length: int) -> str:
    text = value.strip()
    keep = min(length, max(len(text) - 1, 0))
    return text[:keep] + "*" * (len(text) - keep)


class Generalize(Strategy):
    """``generalize_to``: ``year`` (``1987-03-14`` -> ``1987``), ``age_band`` (-> ``30-39``, ages
    from the reference date, default today) or ``prefix`` (``2100`` -> ``21**``). A value that
    is not a date under year/age_band becomes NULL. Without a policy, postal codes get a prefix
    and everything else the year; in free text a span becomes its entity tag."""

    name = "generalize"

    def value(self, value: str) -> str | None:
        mode = self.context.option("generalize_to", "prefix" if self.context.entity == POSTAL_CODE else "year")
        if mode == "prefix":
            return postal_prefix(value, int(self.context.option("prefix_length", 2)))
        born = parse_date(value)
        if born is None:
            return None
        if mode == "year":
            return str(born.year)
        today = self.context.reference_date or datetime.now(UTC).date()
        return age_band(age_on(born, today))

    def span(self, text: str, entity: str) -> str:
        return tag(entity)
