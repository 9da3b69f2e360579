"""Run-level PII leak guards shared by the silver, gold and AI-ready operators.

Each runs on the stage's own connection before the commit that would publish its output, so a
guard that fires leaves readers with the previous state. They raise :class:`AtlasPiiLeakError`
naming tables, columns and counts, never values. A model reading several tables is guarded
against the raw values of every input: :func:`input_sources` + :func:`guard_sources`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

# Kept (audited) or generalized (deliberately coarse: a birth year, a postal prefix) columns
# may legitimately share values with other data; they are not direct identifiers.
NOT_GUARDED = frozenset({"keep", "generalize"})


def structured_pii_columns(findings: list[Any]) -> list[str]:
    """Direct-identifier columns whose whole value is PII (free text keeps its non-PII words)."""
    return [f.column for f in findings if f.kind != "free_text" and f.strategy not in NOT_GUARDED
            and (f.kind != "none" or f.policy_source == "config")]


def input_sources(conn: PgConnection, tables: Iterable[str], ds: str) -> list[Any]:
    """The raw values each input table's date slice must not leak: its structured PII columns
    as detect_pii recorded them for ``ds`` (one LeakSource per table)."""
    from atlas.pii.leaks import LeakSource
    from atlas.warehouse.pii_findings import load_findings

    return [LeakSource(f"bronze.{table}", tuple(structured_pii_columns(load_findings(conn, table, ds))), ds)
            for table in tables]


def guard_sources(conn: PgConnection, sources: Sequence[Any], targets: Sequence[Any], raw: Any = None) -> None:
    """Fail the run if any raw value of ``sources`` appears in ``targets`` (names and counts only).

    :param conn: the stage's connection, before its commit.
    :param sources: the raw values that must not leak (:class:`atlas.pii.leaks.LeakSource`).
    :param targets: ``schema.table`` names or :class:`atlas.pii.leaks.LeakTarget`.
    :param raw: the sources' values read before (:func:`atlas.pii.leaks.raw_values`), else read here.
    """
    from atlas.errors import AtlasPiiLeakError
    from atlas.pii.leaks import find_leaks, leak_message

    leaks = find_leaks(conn, sources, targets, raw=raw)
    if leaks:
        raise AtlasPiiLeakError(leak_message(leaks))


def guard_leaks(conn: PgConnection, table: str, columns: Sequence[str], targets: Sequence[Any], ds: str) -> None:
    """Fail the run if any raw bronze value of ``table``'s ``columns`` for ``ds`` appears in ``targets``."""
    from atlas.pii.leaks import LeakSource

    guard_sources(conn, [LeakSource(f"bronze.{table}", tuple(columns), ds)], targets)


def slice_guard(spec: Any, findings: list[Any]) -> Any:
    """The guard ``build_silver`` feeds with each chunk's raw rows and protected output."""
    from atlas.pii.leaks import SliceLeakGuard

    return SliceLeakGuard(f"bronze.{spec.table}", structured_pii_columns(findings),
                          ignore=spec.table_schema.column_names)


def guard_detectors(conn: PgConnection, specs: Any, targets: Sequence[Any]) -> None:
    """Fail the run if the PII detectors fire on a column of ``targets`` that should be PII-free
    (every column except those the tables' policies explicitly keep).

    :param conn: the stage's connection, before its commit.
    :param specs: the table spec, or the specs of every input of a cross-table model.
    :param targets: ``schema.table`` names or :class:`atlas.pii.leaks.LeakTarget`.
    """
    from atlas.errors import AtlasPiiLeakError
    from atlas.pii import find_detector_hits

    specs = list(specs) if isinstance(specs, list | tuple) else [specs]
    keep = sorted({c for spec in specs for c, p in spec.pii.columns.items() if p.strategy == "keep"})
    hits = [hit for target in targets for hit in find_detector_hits(conn, target, specs[0].pii, exclude=keep)]
    if hits:
        listed = "; ".join(f"{h.target}.{h.column}: {','.join(h.entity_types)} in {h.hit_rate:.0%} of "
                           f"{h.rows_scanned} sampled values" for h in hits)
        raise AtlasPiiLeakError(f"PII detectors fired on columns that should be PII-free: {listed}")


def output_guard(sources: Sequence[Any], specs: Any, name: str,
                 raw: dict[str, Any] | None = None) -> Callable[..., None]:
    """Both guards for one output, as a hook for the transaction that publishes it:
    ``check(conn)`` reads table ``name``; ``check(conn, relation, values)`` reads ``relation`` (a
    staging table) and ``values`` ((label, values) published besides the cells, e.g. category
    vocabularies) and reports them as ``name``.

    :param sources: the raw values that must not leak (from :func:`input_sources`).
    :param specs: the table spec, or the specs of every input (their PII policies).
    :param name: the published table the check reads and reports.
    :param raw: a dict shared by the guards of one task (several models), so the sources' raw
        values are read once.
    """
    from atlas.pii.leaks import LeakTarget, raw_values

    raw = {} if raw is None else raw

    def check(conn: PgConnection, relation: str | None = None,
              values: Sequence[tuple[str, Sequence[str]]] = ()) -> None:
        target = LeakTarget(relation or name, name, values=tuple((label, tuple(v)) for label, v in values))
        if "values" not in raw:
            raw["values"] = raw_values(conn, sources)
        guard_sources(conn, sources, [target], raw=raw["values"])
        guard_detectors(conn, specs, [target])

    return check
