"""Batched PII span detection over many texts.

Texts are tokenized once; one NER pass (spaCy ``nlp.pipe``, ``ner`` only, batched, worker
processes where they help) runs over short windows around the candidate name words of the
texts that have any (see :func:`ner_in_windows`); then
Presidio's AnalyzerEngine runs the recognizers and context enhancement on the precomputed
artifacts, only for entities that can occur in each text. Identical texts are scanned once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from atlas.pii.engine import analyzer_engine, needs_ner, run_ner, tokenize
from atlas.pii.entities import (
    CREDIT_CARD,
    DK_CPR,
    EMAIL_ADDRESS,
    IBAN_CODE,
    IP_ADDRESS,
    NER_ENTITIES,
    PHONE_NUMBER,
)

# Entities that cannot occur in a text without a digit / without an "@".
DIGIT_ENTITIES = frozenset({DK_CPR, PHONE_NUMBER, IBAN_CODE, CREDIT_CARD, IP_ADDRESS})
AT_ENTITIES = frozenset({EMAIL_ADDRESS})


@dataclass(frozen=True)
class Span:
    """One detected PII span: character offsets into the text, never the text itself."""

    start: int
    end: int
    entity: str
    score: float
    recognizer: str


@dataclass(frozen=True)
class ScanOptions:
    """What to look for and how hard to work."""

    recognizers: tuple[str, ...]
    languages: tuple[str, ...] = ("en", "da")
    score_threshold: float = 0.5
    n_process: int | None = None  # None: ATLAS_PII_N_PROCESS, else see default_n_process()
    batch_size: int = 1000

    @classmethod
    def from_spec(cls, spec: object, **overrides: object) -> ScanOptions:
        """Options from a ``PiiSpec`` (recognizers, languages, score_threshold)."""
        values = {
            "recognizers": tuple(spec.recognizers),  # type: ignore[attr-defined]
            "languages": tuple(getattr(spec, "languages", ("en", "da"))),
            "score_threshold": float(spec.score_threshold),  # type: ignore[attr-defined]
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def default_n_process() -> int:
    """``ATLAS_PII_N_PROCESS`` if set; else one process per core beyond the second (max 4).

    spaCy worker processes pay for start-up and for sending docs back; on two cores that
    costs more than it gains (measured: 423 notes/s with one process, 241/s with two)."""
    configured = os.environ.get("ATLAS_PII_N_PROCESS")
    if configured:
        return max(1, int(configured))
    cores = os.cpu_count() or 1
    return 1 if cores <= 2 else min(4, cores - 1)


def wants_ner(doc: Any) -> bool:
    """Whether NER could find a name or place: some capitalised word that is not a common
    word (sentence starts such as "Customer", "Kunden", "Please" do not count)."""
    from atlas.pii.recognizers.names import is_name_token

    return any(is_name_token(token) for token in doc)


NER_WINDOW_RADIUS = 3  # tokens of context kept on each side of a candidate name word


def candidate_windows(doc: Any, radius: int = NER_WINDOW_RADIUS) -> list[tuple[int, int]]:
    """Merged token ranges of +-radius tokens around each candidate name word."""
    from atlas.pii.recognizers.names import is_name_token

    windows: list[tuple[int, int]] = []
    for i, token in enumerate(doc):
        if not is_name_token(token):
            continue
        start, end = max(0, i - radius), min(len(doc), i + radius + 1)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], end))
        else:
            windows.append((start, end))
    return windows


def ner_in_windows(docs: Sequence[Any], *, n_process: int, batch_size: int) -> None:
    """Set ``doc.ents`` of each doc from NER over the windows around its candidate name words.

    The small model's decisions depend on a few tokens around a word (its CNN sees four on each
    side), so NER over short windows finds nearly what it finds over the whole text at about
    half the cost; lower-case stretches far from any capitalised word are skipped."""
    from spacy.util import filter_spans

    where: list[tuple[int, int]] = []
    texts: list[str] = []
    for k, doc in enumerate(docs):
        for start, end in candidate_windows(doc):
            first, last = doc[start], doc[end - 1]
            where.append((k, first.idx))
            texts.append(doc.text[first.idx : last.idx + len(last.text)])
    found: dict[int, list[Any]] = {}
    for (k, offset), window in zip(where, run_ner(tokenize(texts), n_process=n_process, batch_size=batch_size),
                                   strict=True):
        for ent in window.ents:
            span = docs[k].char_span(offset + ent.start_char, offset + ent.end_char, label=ent.label_,
                                     alignment_mode="expand")
            if span is not None:
                found.setdefault(k, []).append(span)
    for k, spans in found.items():
        docs[k].ents = filter_spans(spans)


def resolve_overlaps(spans: Sequence[Span]) -> list[Span]:
    """Non-overlapping spans: overlapping ones merge into their union, labelled by the
    strongest (highest score, then longest)."""
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    merged: list[Span] = []
    for span in ordered:
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            best = max((last, span), key=lambda s: (s.score, s.end - s.start))
            merged[-1] = Span(last.start, max(last.end, span.end), best.entity, best.score, best.recognizer)
        else:
            merged.append(span)
    return merged


class TextScanner:
    """Detects PII spans in batches of texts with the cached AnalyzerEngine.

    Every configured language's recognizers carry the context words of all configured
    languages and share the one NER model, so each text is analyzed once (under the first
    language); recognizers that cannot match a text (no digit, no ``@``) are not run on it.
    """

    def __init__(self, options: ScanOptions) -> None:
        self.options = options
        self.engine = analyzer_engine(tuple(options.recognizers), tuple(options.languages))
        self.language = options.languages[0]
        supported = set(self.engine.get_supported_entities(self.language))
        self.ner_entities = sorted(supported & NER_ENTITIES)
        self.digit_entities = sorted(supported & DIGIT_ENTITIES)
        self.at_entities = sorted(supported & AT_ENTITIES)
        self.uses_ner = needs_ner(options.recognizers)

    def entities_for(self, text: str, *, named: bool = True) -> list[str]:
        """Entities worth looking for in ``text``: names and places only when it has a candidate
        name word (``named``) or digits (street numbers), patterns only where they can match."""
        digits = any(ch.isdigit() for ch in text)
        entities = list(self.ner_entities) if named or digits else []
        if digits:
            entities += self.digit_entities
        if "@" in text:
            entities += self.at_entities
        return entities

    def scan(self, texts: Sequence[str], *, context: Sequence[str] | None = None) -> list[list[Span]]:
        """Spans per text (same order); each list sorted and non-overlapping."""
        unique = list(dict.fromkeys(texts))
        docs = tokenize(unique)
        with_ner = {i for i, doc in enumerate(docs) if self.uses_ner and wants_ner(doc)}
        ner_in_windows([docs[i] for i in sorted(with_ner)], n_process=self.options.n_process or default_n_process(),
                       batch_size=self.options.batch_size)
        nlp_engine = self.engine.nlp_engine
        ctx = list(context) if context else None
        found: dict[str, list[Span]] = {}
        for i, (text, doc) in enumerate(zip(unique, docs, strict=True)):
            entities = self.entities_for(text, named=i in with_ner)
            if not entities:
                found[text] = []
                continue
            results = self.engine.analyze(
                text,
                language=self.language,
                entities=entities,
                score_threshold=self.options.score_threshold,
                nlp_artifacts=nlp_engine.artifacts(doc, self.language),
                context=ctx,
            )
            found[text] = resolve_overlaps(
                [
                    Span(r.start, r.end, r.entity_type, round(float(r.score), 4),
                         (r.recognition_metadata or {}).get("recognizer_name", ""))
                    for r in results
                ]
            )
        return [found[t] for t in texts]
