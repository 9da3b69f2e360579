"""generalize: date of birth -> year or age band; postal code -> prefix."""

from __future__ import annotations

from typing import Any

from presidio_anonymizer.operators import Replace

from atlas.pii.anonymizer import Generalization, age_band, postal_prefix
from atlas.pii.entities import POSTAL_CODE
from atlas.pii.strategies.base import Strategy

__all__ = ["Generalize", "age_band", "postal_prefix"]


class Generalize(Strategy):
    """``generalize_to``: ``year`` (``1987-03-14`` -> ``1987``), ``age_band`` (-> ``30-39``, ages
    from the reference date, default today) or ``prefix`` (``2100`` -> ``21**``). A value that
    is not a date under year/age_band becomes NULL. Without a policy, postal codes get a prefix
    and everything else the year; in free text a span becomes its entity tag."""

    name = "generalize"
    operator_class = Generalization
    span_operator_class = Replace

    def operator_params(self) -> dict[str, Any]:
        default = "prefix" if self.context.entity == POSTAL_CODE else "year"
        return {"mode": self.context.option("generalize_to", default),
                "prefix_length": int(self.context.option("prefix_length", 2)),
                "reference_date": self.context.reference_date}
