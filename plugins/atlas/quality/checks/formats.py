"""Validity: columns with a configured format match it (PostgreSQL regular expressions)."""

from __future__ import annotations

from collections.abc import Iterator

from atlas.quality.checks.base import CheckContext, SodaCheck

FORMAT_REGEX = {
    "email": r"^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$",
    "phone": r"^\+[1-9][0-9]{6,14}$",  # E.164
    "cpr": r"^[0-9]{6}-?[0-9]{4}$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "postal_code": r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$",
}


class ValueFormat:
    """Skipped for columns whose PII strategy rewrites the value (a masked phone is no phone)."""

    def checks(self, ctx: CheckContext) -> Iterator[SodaCheck]:
        for col in ctx.columns:
            if col.format and ctx.keeps_values(col.name):
                yield SodaCheck(
                    f"invalid_count({col.name}) = 0", f"{col.name}_valid_{col.format}", "validity", "fail", "= 0",
                    column=col.name, config={"valid regex": FORMAT_REGEX[col.format]},
                )
