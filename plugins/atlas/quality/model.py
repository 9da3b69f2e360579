"""Check results, per-run reports, dimension scores and the quality gate."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from atlas.errors import AtlasQualityGateError

Dimension = Literal["completeness", "uniqueness", "validity", "consistency", "timeliness", "accuracy"]
Severity = Literal["warn", "fail"]
Outcome = Literal["pass", "warn", "fail", "error"]

DIMENSIONS: tuple[str, ...] = (
    "completeness", "uniqueness", "validity", "consistency", "timeliness", "accuracy",
)
SEVERITIES: tuple[str, ...] = ("warn", "fail")
LAYERS: tuple[str, ...] = ("bronze", "silver", "gold")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check. Carries measured aggregates only, never row values."""

    table: str
    layer: str
    name: str
    dimension: str
    severity: str
    outcome: str
    measured_value: float | None
    threshold: str | None
    column: str | None = None
    kind: str | None = None  # Soda metric or check type: missing_count, duplicate_count, schema, ...

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    @property
    def blocking(self) -> bool:
        """A fail-severity check that failed or could not be evaluated stops the run."""
        return self.severity == "fail" and self.outcome in ("fail", "error")

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def score(results: list[CheckResult]) -> dict[str, float]:
    """Pass rate (0..100) per dimension that has checks, plus ``overall``."""
    scores = {}
    for dim in DIMENSIONS:
        in_dim = [r for r in results if r.dimension == dim]
        if in_dim:
            scores[dim] = _pass_rate(in_dim)
    scores["overall"] = _pass_rate(results) if results else 100.0
    return scores


def _pass_rate(results: list[CheckResult]) -> float:
    return round(100.0 * sum(r.passed for r in results) / len(results), 1)


def _fmt_value(value: float | None) -> str:
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"


@dataclass
class QualityReport:
    """All check results of one table and layer for one run."""

    table: str
    layer: str
    results: list[CheckResult]
    scores: dict[str, float] = field(default_factory=dict)
    overall: float = 100.0
    run_id: str | None = None
    logical_date: date | None = None
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.scores:
            all_scores = score(self.results)
            self.overall = all_scores.pop("overall")
            self.scores = all_scores

    @property
    def failed(self) -> list[CheckResult]:
        """Fail-severity checks that failed or errored: these stop the run."""
        return [r for r in self.results if r.blocking]

    @property
    def warned(self) -> list[CheckResult]:
        """Checks that did not pass but do not stop the run."""
        return [r for r in self.results if not r.passed and not r.blocking]

    @property
    def passed(self) -> bool:
        return not self.failed

    def format_table(self) -> str:
        """A fixed-width table of every check's outcome, then the scores, for the task log."""
        head = ("dataset", "check", "dimension", "severity", "outcome", "measured", "threshold")
        rows = [
            (r.table, r.name, r.dimension, r.severity, r.outcome.upper(), _fmt_value(r.measured_value),
             r.threshold or "-")
            for r in sorted(self.results, key=_display_order)
        ]
        widths = [max(len(str(c)) for c in col) for col in zip(head, *rows, strict=False)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        out = [
            f"Quality: {self.table} ({self.layer}, {self.logical_date or '-'}, run {self.run_id or '-'})",
            line.format(*head).rstrip(),
            line.format(*("-" * w for w in widths)).rstrip(),
            *(line.format(*row).rstrip() for row in rows),
            "",
            "scores: " + ", ".join(f"{d} {s:g}" for d, s in self.scores.items()) + f"; overall {self.overall:g}",
            f"{len(self.results)} checks: {sum(r.passed for r in self.results)} passed, "
            f"{len(self.warned)} warned, {len(self.failed)} failed (blocking)",
        ]
        out += [f"scan error: {e}" for e in self.errors]
        return "\n".join(out)

    def summary(self) -> dict[str, Any]:
        """A small JSON-able summary (for XCom and run metrics): counts, scores, failing names."""
        return {
            "table": self.table,
            "layer": self.layer,
            "logical_date": str(self.logical_date) if self.logical_date else None,
            "checks": len(self.results),
            "passed": sum(r.passed for r in self.results),
            "warned": [r.name for r in self.warned],
            "failed": [r.name for r in self.failed],
            "scores": dict(self.scores),
            "overall": self.overall,
        }

    def failure_message(self) -> str:
        failed = self.failed
        lines = [
            f"Quality gate failed for {self.table} ({self.layer}, {self.logical_date or '-'}): "
            f"{len(failed)} fail-severity check(s) failed"
        ]
        lines += [
            f"  - {r.table}.{r.name} [{r.dimension}] {r.outcome}: measured {_fmt_value(r.measured_value)}"
            f" (threshold {r.threshold or '-'})"
            for r in failed
        ]
        lines += [f"  scan error: {e}" for e in self.errors]
        return "\n".join(lines)

    def raise_for_failures(self) -> None:
        """Raise AtlasQualityGateError listing every blocking check; warnings never raise."""
        if self.failed:
            raise AtlasQualityGateError(self.failure_message())


def _display_order(result: CheckResult) -> tuple[int, str, str]:
    rank = {"fail": 0, "error": 0, "warn": 1, "pass": 2}[result.outcome]
    return (rank, result.table, result.name)
