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


_TEXT_TYPES = frozenset({str, type(None)})
_NONE_AS_EMPTY = {None: ""}


def stripped(values: list[object]) -> list[object]:
    """Strings stripped and blank ones None; anything else as it is. A column of only strings
    and None is stripped by C-level ``map`` calls (no Python call per value)."""
    if not set(map(type, values)) <= _TEXT_TYPES:
        return [v.strip() or None if isinstance(v, str) else v for v in values]
    out: list[object] = list(map(str.strip, map(_NONE_AS_EMPTY.get, values, values)))  # type: ignore[arg-type]
    return [v or None for v in out] if "" in out else out


def _blank_to_none(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Data columns stripped (blank -> None), every column object dtype with None for missing."""
    import pandas as pd

    names = set(columns)
    others = as_text_or_none(frame[[c for c in frame.columns if c not in names]])
    out = {}
    for name in frame.columns:
        if name not in names:
            out[name] = others[name]
            continue
        values = frame[name].tolist()
        if not set(map(type, values)) <= _TEXT_TYPES:  # NaN, NA or numbers: as as_text_or_none leaves them
            values = as_text_or_none(frame[[name]])[name].tolist()
        out[name] = stripped(values)
    # dtype=object: pandas would otherwise infer its NaN-based string dtype from lists of str
    return pd.DataFrame(out, index=frame.index, dtype=object)


def validate(frame: pd.DataFrame, spec: TableSpec, *, reference: bool = False) -> ValidatedChunk:
    """Apply every column's rules; rows breaking any go to ``rejected`` with the first reason.

    ``reference``: every rule value by value (:meth:`Rule.apply_each`), the plain definition the
    default column-wise path is checked against in tests and measured against in benchmarks."""
    import numpy as np
    import pandas as pd

    columns = list(spec.table_schema.column_names)
    raw = _blank_to_none(frame, columns)
    normalized = {}
    rule_ids = np.full(len(raw), None, dtype=object)
    reasons = np.full(len(raw), None, dtype=object)
    unset = np.ones(len(raw), dtype=bool)  # rows no rule has rejected yet
    keys = set(spec.table_schema.primary_key)
    for column in spec.table_schema.columns:
        values = raw[column.name]
        for rule in rules_for(column, primary_key=column.name in keys):
            values, invalid = rule.apply_each(values, raw) if reference else rule.apply(values, raw)
            fresh = unset & invalid.to_numpy(dtype=bool)
            if fresh.any():
                rule_ids[fresh] = rule.rule_id
                reasons[fresh] = rule.reason()
                unset &= ~fresh
        normalized[column.name] = values
    bad = ~unset
    rejected = raw[bad].copy()
    rejected["_atlas_rule"] = pd.Series(rule_ids[bad], index=rejected.index, dtype=object)
    rejected["_atlas_reason"] = pd.Series(reasons[bad], index=rejected.index, dtype=object)
    valid = pd.DataFrame({name: normalized.get(name, raw[name]) for name in raw.columns}, index=raw.index,
                         dtype=object)[unset]
    return ValidatedChunk(valid=as_text_or_none(valid), rejected=as_text_or_none(rejected))
