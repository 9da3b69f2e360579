"""Validate and normalize a chunk of bronze rows against the table's schema rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from atlas.config import TableSpec
from atlas.silver.rules import rules_for

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class ValidatedChunk:
    """``valid``: normalized rows; ``rejected``: raw rows with ``_atlas_rule`` and ``_atlas_reason``."""

    valid: pd.DataFrame
    rejected: pd.DataFrame


def as_text_or_none(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding ``str`` or ``None`` (pandas would otherwise infer NaN-based dtypes)."""
    out = frame.astype(object)
    return out.where(out.notna(), None)


def stripped(values: list[object]) -> list[object]:
    """Strings stripped and blank ones None; anything else as it is. A column of strings only is
    stripped by one C-level ``map`` (no Python call per value)."""
    try:
        out: list[object] = list(map(str.strip, values))  # type: ignore[arg-type]
    except TypeError:  # None (or another type) among them
        return [v.strip() or None if isinstance(v, str) else v for v in values]
    return [v or None for v in out] if "" in out else out


def _blank_to_none(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    out = as_text_or_none(frame)
    names = set(columns)
    # dtype=object: pandas would otherwise infer its NaN-based string dtype from lists of str
    return pd.DataFrame({name: stripped(out[name].tolist()) if name in names else out[name]
                         for name in out.columns}, index=out.index, dtype=object)


def validate(frame: pd.DataFrame, spec: TableSpec, *, reference: bool = False) -> ValidatedChunk:
    """Apply every column's rules; rows breaking any go to ``rejected`` with the first reason.

    ``reference``: every rule value by value (:meth:`Rule.apply_each`), the plain definition the
    default column-wise path is checked against in tests and measured against in benchmarks."""
    import pandas as pd

    columns = list(spec.table_schema.column_names)
    raw = _blank_to_none(frame, columns)
    normalized = raw.copy()
    rule_ids = pd.Series(None, index=raw.index, dtype=object)
    reasons = pd.Series(None, index=raw.index, dtype=object)
    keys = set(spec.table_schema.primary_key)
    for column in spec.table_schema.columns:
        values = raw[column.name]
        for rule in rules_for(column, primary_key=column.name in keys):
            values, invalid = rule.apply_each(values, raw) if reference else rule.apply(values, raw)
            fresh = invalid & rule_ids.isna()
            rule_ids[fresh] = rule.rule_id
            reasons[fresh] = rule.reason()
        normalized[column.name] = values
    bad = rule_ids.notna()
    rejected = raw[bad].copy()
    rejected["_atlas_rule"] = rule_ids[bad]
    rejected["_atlas_reason"] = reasons[bad]
    return ValidatedChunk(valid=as_text_or_none(normalized[~bad]), rejected=as_text_or_none(rejected))
