"""Column classification: structured PII, free text with PII spans, or not PII.

For each column, a sample of values (drawn by the caller across the whole slice) is scanned
with the table's recognizers, the column name given as context words. Detector hit rates
are combined with column-name hints:

* **structured**: one entity covers (almost) the whole value in at least ``min_hit_rate`` of
  the sample (half that when the name agrees, e.g. ``phone_number`` and PHONE_NUMBER).
  Columns named as categories (country, status, product ...) or holding few distinct
  values (under 10% of the sample) never become PII from NER alone unless the name agrees.
  Dates of birth and postal codes are found by name plus the shape of the values.
* **free_text**: values are prose (median five words or more, or a notes-like name) and
  PII spans (bare place names such as "Portugal" do not count) occur in at least
  ``free_text_min_hit_rate`` of them.
* **none**: otherwise.

Findings record counts, rates and recognizer names only, never values.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from atlas.errors import AtlasConfigError
from atlas.pii.dates import parse_date
from atlas.pii.entities import DATE_OF_BIRTH, NER_ENTITIES, POSTAL_CODE
from atlas.pii.findings import ColumnFinding, Kind
from atlas.pii.hints import ColumnHint, context_for, hint_for
from atlas.pii.scanner import ScanOptions, Span, TextScanner
from atlas.pii.values import as_text

log = logging.getLogger(__name__)

WHOLE_VALUE_COVERAGE = 0.7  # share of a value's characters a span must cover to be "the value"
FREE_TEXT_MIN_WORDS = 5
SHAPE_MIN_RATE = 0.8  # hint-only entities: share of values that must have the entity's shape
HINT_RECOGNIZER = "column_name"
FIRST_STEP = 100  # values scanned before the first look at the evidence
SETTLED_STRUCTURED_RATE = 0.8
SETTLED_NONE_ROWS = 200
# NER evidence alone does not make a column of a few repeated values (warehouse, region) PII.
MIN_DISTINCT_NER = 5
MIN_DISTINCT_SHARE_NER = 0.1
_POSTAL_SHAPE = re.compile(r"^(?:[A-Z]{1,2}-)?[A-Z0-9]{2,5}(?:[ -][A-Z0-9]{2,4})?$", re.IGNORECASE)


@dataclass
class EntityStats:
    """Evidence for one entity in one column's sample."""

    values_hit: int = 0
    values_whole: int = 0
    scores: list[float] = field(default_factory=list)
    recognizers: set[str] = field(default_factory=set)

    @property
    def mean_score(self) -> float:
        return sum(self.scores) / len(self.scores) if self.scores else 0.0


@dataclass(frozen=True)
class Detection:
    """What the sample says about a column, before policies."""

    kind: Kind
    entity_types: tuple[str, ...]
    confidence: float
    hit_rate: float
    rows_scanned: int
    recognizers: tuple[str, ...]


def _coverage(value: str, spans: Sequence[Span]) -> float:
    length = len(value.strip())
    covered = sum(s.end - s.start for s in spans)
    return covered / length if length else 0.0


def collect_evidence(values: Sequence[str], spans_per_value: Sequence[Sequence[Span]]) -> dict[str, EntityStats]:
    """Per entity: values hit, values wholly covered, scores and recognizers."""
    stats: dict[str, EntityStats] = defaultdict(EntityStats)
    for value, spans in zip(values, spans_per_value, strict=True):
        by_entity: dict[str, list[Span]] = defaultdict(list)
        for span in spans:
            by_entity[span.entity].append(span)
        for entity, entity_spans in by_entity.items():
            entry = stats[entity]
            entry.values_hit += 1
            entry.scores.extend(s.score for s in entity_spans)
            entry.recognizers.update(s.recognizer for s in entity_spans)
            if _coverage(value, entity_spans) >= WHOLE_VALUE_COVERAGE:
                entry.values_whole += 1
    return dict(stats)


def _shape_rate(entity: str, values: Sequence[str]) -> float:
    if entity == DATE_OF_BIRTH:
        ok = sum(parse_date(v) is not None for v in values)
    elif entity == POSTAL_CODE:
        ok = sum(bool(_POSTAL_SHAPE.match(v.strip())) for v in values)
    else:
        return 0.0
    return ok / len(values)


def decide(
    values: Sequence[str],
    spans_per_value: Sequence[Sequence[Span]],
    hint: ColumnHint,
    *,
    min_hit_rate: float,
    free_text_min_hit_rate: float,
) -> Detection:
    """Classify one column from the spans found in its sample and its name hint."""
    stats = collect_evidence(values, spans_per_value)
    n = len(values)
    fired = tuple(sorted({r for s in stats.values() for r in s.recognizers}))
    if n == 0:
        return Detection("none", (), 1.0, 0.0, 0, ())
    # Structured: an entity is the whole value often enough.
    best: tuple[float, str] | None = None
    few_distinct = len(set(values)) < max(MIN_DISTINCT_NER, MIN_DISTINCT_SHARE_NER * n)
    for entity, entry in stats.items():
        if entity in NER_ENTITIES and hint.entity != entity and (hint.category or few_distinct):
            continue
        rate = entry.values_whole / n
        threshold = min_hit_rate / 2 if hint.entity == entity else min_hit_rate
        if rate >= threshold and (best is None or rate > best[0]):
            best = (rate, entity)
    words = statistics.median(len(v.split()) for v in values)
    prose = words >= FREE_TEXT_MIN_WORDS or (hint.free_text and words >= 2)
    if best is not None and not (prose and hint.free_text):
        rate, entity = best
        entry = stats[entity]
        others = tuple(e for e, s in stats.items() if e != entity and s.values_whole / n >= min_hit_rate)
        agrees = 0.1 if hint.entity == entity else 0.0
        confidence = min(1.0, 0.5 * entry.mean_score + 0.5 * rate + agrees)
        return Detection("structured", (entity, *sorted(others)), round(confidence, 3), round(rate, 4), n, fired)
    # Quasi-identifiers the detectors do not cover: name hint plus value shape.
    if hint.entity in (DATE_OF_BIRTH, POSTAL_CODE):
        rate = _shape_rate(hint.entity, values)
        if rate >= SHAPE_MIN_RATE:
            return Detection("structured", (hint.entity,), round(0.6 + 0.3 * rate, 3), round(rate, 4), n,
                             (HINT_RECOGNIZER,))
    # Free text: prose with PII spans in enough values. Bare place names ("made in Portugal",
    # "shipped from Aarhus") identify no one; addresses, names and patterns do.
    if prose:
        personal = [[sp for sp in spans if not sp.place_name] for spans in spans_per_value]
        relevant = {e: s for e, s in collect_evidence(values, personal).items()
                    if not (hint.category and e in NER_ENTITIES)}
        any_rate = sum(any(sp.entity in relevant for sp in spans) for spans in personal) / n
        if relevant and any_rate >= free_text_min_hit_rate:
            ordered = tuple(sorted(relevant, key=lambda e: (-relevant[e].values_hit, e)))
            mean = statistics.fmean(s.mean_score for s in relevant.values())
            confidence = min(1.0, 0.5 * mean + 0.5 * min(1.0, any_rate / (2 * free_text_min_hit_rate)))
            return Detection("free_text", ordered, round(confidence, 3), round(any_rate, 4), n, fired)
    top_rate = max((s.values_hit for s in stats.values()), default=0) / n
    return Detection("none", (), round(1.0 - top_rate, 3), round(top_rate, 4), n, fired)


def _clean(values: Sequence[str | None]) -> list[str]:
    return [v for v in (as_text(x) for x in values) if v is not None and v.strip()]


def _settled(detection: Detection, spans: Sequence[Sequence[Span]], spec: object) -> bool:
    """Whether more of the sample could not change the decision."""
    scanned = len(spans)
    if detection.kind == "structured":
        return detection.hit_rate >= max(SETTLED_STRUCTURED_RATE, 2 * float(spec.min_hit_rate))  # type: ignore[attr-defined]
    if detection.kind == "free_text":
        return detection.hit_rate >= 4 * float(spec.free_text_min_hit_rate)  # type: ignore[attr-defined]
    return scanned >= SETTLED_NONE_ROWS and not any(spans)


def detect_column(scanner: TextScanner, column: str, values: Sequence[str | None], spec: object) -> Detection:
    """Scan one column's sample and classify it (no policy applied).

    The sample is scanned in growing steps (100, 200, then the rest) and scanning stops once
    the decision is settled: a structured entity on at least 80% of the values, PII spans in at
    least four times the free-text threshold, or 200 values without a single span. The finding
    reports the rows actually scanned.
    """
    clean = _clean(values)
    context, hint = context_for(column), hint_for(column)
    thresholds = {
        "min_hit_rate": float(spec.min_hit_rate),  # type: ignore[attr-defined]
        "free_text_min_hit_rate": float(spec.free_text_min_hit_rate),  # type: ignore[attr-defined]
    }
    spans: list[list[Span]] = []
    step = FIRST_STEP
    while True:
        chunk = clean[len(spans) : len(spans) + step]
        spans += scanner.scan(chunk, context=context) if chunk else []
        detection = decide(clean[: len(spans)], spans, hint, **thresholds)
        if len(spans) >= len(clean) or _settled(detection, spans, spec):
            return detection
        step *= 2


def apply_policy(column: str, detection: Detection, spec: object) -> ColumnFinding:
    """The finding for a column: its configured policy, the default strategy, or none."""
    policy = spec.columns.get(column)  # type: ignore[attr-defined]
    if policy is not None:
        kind: Kind = detection.kind
        entity_types = detection.entity_types
        if policy.free_text:
            kind = "free_text"
        elif policy.entity:
            kind = "structured"
            if policy.entity not in entity_types:
                entity_types = (policy.entity, *entity_types)
        return ColumnFinding(
            column=column,
            kind=kind,
            entity_types=entity_types,
            confidence=detection.confidence,
            hit_rate=detection.hit_rate,
            rows_scanned=detection.rows_scanned,
            recognizers=detection.recognizers,
            strategy=policy.strategy,
            policy_source="config",
        )
    if detection.kind != "none":
        return ColumnFinding(
            column=column,
            kind=detection.kind,
            entity_types=detection.entity_types,
            confidence=detection.confidence,
            hit_rate=detection.hit_rate,
            rows_scanned=detection.rows_scanned,
            recognizers=detection.recognizers,
            strategy=spec.default_strategy,  # type: ignore[attr-defined]
            policy_source="default",
        )
    return ColumnFinding(
        column=column,
        kind="none",
        entity_types=(),
        confidence=detection.confidence,
        hit_rate=detection.hit_rate,
        rows_scanned=detection.rows_scanned,
        recognizers=detection.recognizers,
        strategy="keep",
        policy_source="none",
    )


def classify_columns(
    table: str, samples: Mapping[str, Sequence[str | None]], spec: object
) -> list[ColumnFinding]:
    """One finding per column in ``samples``.

    Detected columns without a policy get ``spec.default_strategy`` and a warning naming the
    column; with ``spec.strict`` they raise :class:`AtlasConfigError` (all such columns named,
    no values).
    """
    scanner = TextScanner(ScanOptions.from_spec(spec))
    findings = [apply_policy(column, detect_column(scanner, column, values, spec), spec)
                for column, values in samples.items()]
    defaulted = [f for f in findings if f.policy_source == "default"]
    if defaulted and spec.strict:  # type: ignore[attr-defined]
        names = ", ".join(f.column for f in defaulted)
        raise AtlasConfigError(
            f"table {table}", "pii.columns", f"PII detected in columns without a policy: {names} (pii.strict)"
        )
    for finding in defaulted:
        log.warning(
            "table %s: column %s looks like PII but has no policy; applying the default strategy %s",
            table, finding.column, finding.strategy,
        )
    return findings
