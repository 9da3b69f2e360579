"""Run-level PII leak guards shared by the silver, gold and AI-ready operators.

They raise :class:`AtlasPiiLeakError` naming tables, columns and counts, never values.
"""

from __future__ import annotations

from typing import Any

# Kept (audited) or generalized (deliberately coarse: a birth year, a postal prefix) columns
# may legitimately share values with other data; they are not direct identifiers.
NOT_GUARDED = frozenset({"keep", "generalize"})


def structured_pii_columns(findings: list[Any]) -> list[str]:
    """Direct-identifier columns whose whole value is PII (free text keeps its non-PII words)."""
    return [f.column for f in findings if f.kind != "free_text" and f.strategy not in NOT_GUARDED
            and (f.kind != "none" or f.policy_source == "config")]


def guard_leaks(conn: Any, table: str, columns: list[str], targets: list[str], ds: str) -> None:
    """Fail the run if any raw bronze value of ``columns`` appears in ``targets`` (counts only)."""
    from atlas.errors import AtlasPiiLeakError
    from atlas.pii import find_leaks

    if not columns:
        return
    leaks = find_leaks(conn, f"bronze.{table}", columns, targets, logical_date=ds)
    if leaks:
        listed = "; ".join(f"{leak.target}.{leak.column} has {leak.matches} raw value(s) of "
                           f"bronze {leak.source_column}" for leak in leaks)
        raise AtlasPiiLeakError(f"raw PII reached downstream tables: {listed}")


def guard_detectors(conn: Any, spec: Any, targets: list[str]) -> None:
    """Fail the run if the PII detectors fire on a column of ``targets`` that should be PII-free
    (every column except those the table's policy explicitly keeps)."""
    from atlas.errors import AtlasPiiLeakError
    from atlas.pii import find_detector_hits

    keep = [c for c, p in spec.pii.columns.items() if p.strategy == "keep"]
    hits = [hit for target in targets for hit in find_detector_hits(conn, target, spec.pii, exclude=keep)]
    if hits:
        listed = "; ".join(f"{h.target}.{h.column}: {','.join(h.entity_types)} in {h.hit_rate:.0%} of "
                           f"{h.rows_scanned} sampled values" for h in hits)
        raise AtlasPiiLeakError(f"PII detectors fired on columns that should be PII-free: {listed}")
