"""Generated default checks: one small class per kind, listed per layer."""

from __future__ import annotations

from atlas.quality.checks.allowed_values import AllowedValues
from atlas.quality.checks.base import SLICE, CheckContext, CheckKind, SodaCheck
from atlas.quality.checks.duplicate import PrimaryKeyUnique
from atlas.quality.checks.formats import FORMAT_RULES, ValueFormat
from atlas.quality.checks.freshness import Freshness
from atlas.quality.checks.gold import GoldNotEmpty
from atlas.quality.checks.missing import RequiredNotMissing
from atlas.quality.checks.pattern import Pattern
from atlas.quality.checks.pseudonym import PseudonymTokens
from atlas.quality.checks.range import Range
from atlas.quality.checks.row_count import RowCount
from atlas.quality.checks.schema import ColumnsPresent, ColumnTypes

DEFAULT_KINDS: dict[str, tuple[CheckKind, ...]] = {
    "bronze": (RowCount(), ColumnsPresent()),
    "silver": (
        RowCount(), ColumnsPresent(), ColumnTypes(), RequiredNotMissing(), PrimaryKeyUnique(),
        AllowedValues(), ValueFormat(), Pattern(), PseudonymTokens(), Range(), Freshness(),
    ),
    "gold": (GoldNotEmpty(),),
}

__all__ = ["DEFAULT_KINDS", "FORMAT_RULES", "SLICE", "CheckContext", "CheckKind", "SodaCheck"]
