"""Apply each column's strategy to a DataFrame.

Structured columns are protected value by value without any NER (deterministic strategies
map each distinct value once). Free-text columns are scanned in one batch per column and
only the PII spans are replaced; the rest of the text stays.
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

    from atlas.pii.scanner import ScanOptions, Span, TextScanner

UNKNOWN_ENTITY = "PII"


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


class Protector:
    """Protects frames of one table according to its findings and policies."""

    def __init__(self, plans: Sequence[ColumnPlan], scan_options: ScanOptions) -> None:
        self.plans = list(plans)
        self.scan_options = scan_options
        self._scanner: TextScanner | None = None

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

            self._scanner = TextScanner(self.scan_options)
        return self._scanner

    def protect_values(self, plan: ColumnPlan, values: Sequence[str | None]) -> list[str | None]:
        """One column's protected values (None stays None)."""
        if plan.strategy.name == "keep":
            return list(values)
        if not plan.free_text:
            return plan.strategy.column(values)
        present = [i for i, v in enumerate(values) if v is not None and v.strip()]
        spans = self.scanner.scan([values[i] for i in present])  # type: ignore[misc]
        out = list(values)
        for i, value_spans in zip(present, spans, strict=True):
            out[i] = replace_spans(values[i], value_spans, plan.strategy)  # type: ignore[arg-type]
        return out

    def protect(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A new frame with the same columns and index; protected columns hold str or None."""
        import pandas as pd

        out = frame.copy()
        for plan in self.plans:
            if plan.column not in frame.columns:
                continue
            values = [as_text(v) for v in frame[plan.column].tolist()]
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
) -> Protector:
    """A :class:`Protector` for every finding that needs protection (kind != 'none' or a
    configured policy). ``reference_date`` fixes "today" for age bands."""
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
    return Protector(plans, ScanOptions.from_spec(spec, n_process=n_process))
