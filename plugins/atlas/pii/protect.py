"""Apply each column's strategy to a DataFrame.

Structured columns are protected value by value without any NER (deterministic strategies
map each distinct value once). Free-text columns are scanned in one batch per column; the
detectors' spans and the spans of the slice's known structured values are merged, and only
those spans are replaced; the rest of the text stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from atlas.pii.findings import ColumnFinding
from atlas.pii.keys import PiiKeys
from atlas.pii.strategies import STRATEGIES, Strategy, StrategyContext
from atlas.pii.values import as_text

if TYPE_CHECKING:
    import pandas as pd
    from psycopg2.extensions import connection as PgConnection

    from atlas.config import PiiSpec
    from atlas.pii.known_values import KnownValues
    from atlas.pii.scanner import ScanOptions, Span, TextScanner

UNKNOWN_ENTITY = "PII"
_TEXT_TYPES = frozenset({str, type(None)})  # cells :func:`as_text` returns as they are


@dataclass(frozen=True)
class ColumnPlan:
    """How one column is protected."""

    column: str
    kind: str
    strategy: Strategy

    @property
    def free_text(self) -> bool:
        return self.kind == "free_text"


def replace_spans(text: str, spans: Sequence[Span], strategy: Strategy) -> str:
    """``text`` with each (sorted, non-overlapping) span replaced by the strategy's span form."""
    if not spans:
        return text
    out, last = [], 0
    for span in spans:
        out.append(text[last : span.start])
        out.append(strategy.span(text[span.start : span.end], span.entity))
        last = span.end
    out.append(text[last:])
    return "".join(out)


ANONYMIZER_MODES = ("direct", "engine")


class Protector:
    """Protects frames of one table according to its findings and policies.

    Free-text columns: the detectors' spans and the spans of the slice's known values
    (``known_values``) are merged, then replaced with the column's strategy. Use it as a context
    manager for the length of a build: large free-text batches then go to worker processes
    created once and closed and joined when the block ends.

    ``anonymizer``: ``direct`` calls each strategy's Presidio operator once per distinct value and
    per span; ``engine`` runs the same operators through Presidio's ``AnonymizerEngine``
    (identical output, slower: see the PII benchmark).
    """

    def __init__(self, plans: Sequence[ColumnPlan], scan_options: ScanOptions,
                 known_values: KnownValues | None = None, anonymizer: str = "direct") -> None:
        if anonymizer not in ANONYMIZER_MODES:
            raise ValueError(f"anonymizer must be one of {ANONYMIZER_MODES}")
        self.plans = list(plans)
        self.scan_options = scan_options
        self.known_values = known_values
        self.anonymizer = anonymizer
        self._scanner: TextScanner | None = None
        self._open = False

    def __enter__(self) -> Protector:
        self._open = True
        if self._scanner is not None:
            self._scanner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close and join the scanner's worker processes (waits for running work)."""
        self._open = False
        if self._scanner is not None:
            self._scanner.close()

    @property
    def strategies(self) -> dict[str, str]:
        """Column -> strategy applied (protected columns only; ``keep`` included)."""
        return {plan.column: plan.strategy.name for plan in self.plans}

    @property
    def guarded_columns(self) -> list[str]:
        """Columns whose raw values must never appear downstream (all but ``keep``)."""
        return [plan.column for plan in self.plans if plan.strategy.name != "keep"]

    @property
    def scanner(self) -> TextScanner:
        if self._scanner is None:
            from atlas.pii.scanner import TextScanner

            self._scanner = TextScanner(self.scan_options, known_values=self.known_values)
            if self._open:
                self._scanner.__enter__()
        return self._scanner

    def summary(self) -> dict[str, int]:
        """Counts for logs and XCom: texts scanned, worker batches, known-value spans (no values)."""
        out = dict(self._scanner.summary()) if self._scanner is not None else {}
        out["known_value_spans"] = out.get("known_value_spans", 0)
        if self.known_values is not None:
            out["known_values"] = len(self.known_values)
        return out

    def find_spans(self, texts: Sequence[str]) -> list[list[Span]]:
        """Sorted, non-overlapping spans per text: the detectors' and the known values', merged."""
        return self.scanner.scan(texts)

    def protect_values(self, plan: ColumnPlan, values: Sequence[str | None]) -> list[str | None]:
        """One column's protected values (None stays None)."""
        strategy = plan.strategy
        if strategy.name == "keep":
            return list(values)
        engine = self.anonymizer == "engine"
        if not plan.free_text:
            if engine and strategy.deterministic:
                mapping = {v: strategy.engine_value(v) for v in set(values) if v is not None and v.strip()}
                return [mapping.get(v, v) if v is not None else None for v in values]
            if engine:
                return [strategy.engine_value(v) if v is not None and v.strip() else v for v in values]
            return strategy.column(values)
        present = [i for i, v in enumerate(values) if v is not None and v.strip()]
        texts: list[str] = [values[i] for i in present]  # type: ignore[misc]
        out = list(values)
        for i, text, spans in zip(present, texts, self.find_spans(texts), strict=True):
            if engine:
                out[i] = strategy.engine_text(text, [(s.start, s.end, s.entity) for s in spans])
            else:
                out[i] = replace_spans(text, spans, strategy)
        return out

    def protect(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A new frame with the same columns and index; protected columns hold str or None."""
        import pandas as pd

        out = frame.copy()
        for plan in self.plans:
            if plan.column not in frame.columns:
                continue
            values = frame[plan.column].tolist()
            if not set(map(type, values)) <= _TEXT_TYPES:
                values = [as_text(v) for v in values]
            out[plan.column] = pd.Series(self.protect_values(plan, values), index=frame.index, dtype=object)
        return out


def _entity(finding: ColumnFinding, policy: Any) -> str:
    if policy is not None and policy.entity:
        return str(policy.entity)
    return finding.entity_types[0] if finding.entity_types else UNKNOWN_ENTITY


def build_protector(
    spec: Any,
    findings: Sequence[ColumnFinding],
    keys: PiiKeys,
    *,
    reference_date: date | None = None,
    n_process: int | None = None,
    known_values: KnownValues | None = None,
    anonymizer: str = "direct",
) -> Protector:
    """A :class:`Protector` for every finding that needs protection (kind != 'none' or a
    configured policy). ``reference_date`` fixes "today" for age bands; ``known_values`` (from
    :func:`atlas.pii.known_values.load_known_values`) are redacted wherever they recur in free
    text."""
    from atlas.pii.scanner import ScanOptions

    plans = []
    for finding in findings:
        if not finding.is_protected:
            continue
        policy = spec.columns.get(finding.column)
        strategy_cls = STRATEGIES.get(finding.strategy)
        if strategy_cls is None:
            from atlas.errors import AtlasConfigError

            raise AtlasConfigError("pii", f"columns.{finding.column}.strategy", "unknown strategy")
        context = StrategyContext(
            keys=keys, entity=_entity(finding, policy), policy=policy, reference_date=reference_date
        )
        plans.append(ColumnPlan(finding.column, finding.kind, strategy_cls(context)))
    return Protector(plans, ScanOptions.from_spec(spec, n_process=n_process), known_values=known_values,
                     anonymizer=anonymizer)


def slice_protector(conn: PgConnection, spec: PiiSpec, table: str, findings: Sequence[ColumnFinding], ds: str,
                    keys: PiiKeys, **options: Any) -> Protector:
    """:func:`build_protector` for one bronze slice, with the slice's known structured values
    loaded when the table has a protected free-text column (one read-only query)."""
    from atlas.pii.known_values import load_known_values

    known = load_known_values(conn, table, findings, ds)
    return build_protector(spec, findings, keys, known_values=known, **options)
