"""Batched PII span detection over many texts.

Texts are tokenized once; one NER pass (spaCy ``nlp.pipe``, ``ner`` only, batched) runs over
short windows around the candidate name words of the texts that have any (see
:func:`ner_in_windows`); then Presidio's AnalyzerEngine runs the recognizers and context
enhancement on the precomputed artifacts, only for entities that can occur in each text.
Identical texts are scanned once; large batches are split over forked worker processes.
"""

from __future__ import annotations

import logging
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
    PLACE_NAME_KEY,
)

log = logging.getLogger(__name__)

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
    place_name: bool = False  # a bare place name (city, country) rather than an address


@dataclass(frozen=True)
class ScanOptions:
    """What to look for and how hard to work."""

    recognizers: tuple[str, ...]
    languages: tuple[str, ...] = ("en", "da")
    score_threshold: float = 0.5
    n_process: int | None = None  # worker processes for large batches; None: see default_n_process()
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


MIN_TEXTS_PER_PROCESS = 1000


def default_n_process() -> int:
    """``ATLAS_PII_N_PROCESS`` if set, else one worker per core (at most 4)."""
    configured = os.environ.get("ATLAS_PII_N_PROCESS")
    if configured:
        return max(1, int(configured))
    return max(1, min(4, os.cpu_count() or 1))


def _scan_chunk(args: tuple[ScanOptions, list[str], list[str] | None]) -> list[list[Span]]:
    options, texts, context = args
    return TextScanner(options).scan_serial(texts, context=context)


def scan_in_processes(
    options: ScanOptions, texts: list[str], context: list[str] | None, processes: int
) -> list[list[Span]] | None:
    """Scan contiguous chunks in forked worker processes (they inherit the loaded model, and
    only texts and spans cross the process boundary). None where processes cannot be
    started (no fork on this platform, or a daemonic parent such as a worker pool process)."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    size = -(-len(texts) // processes)
    chunks = [(options, texts[i : i + size], context) for i in range(0, len(texts), size)]
    try:
        with multiprocessing.get_context("fork").Pool(len(chunks)) as pool:
            parts = pool.map(_scan_chunk, chunks)
    except (AssertionError, OSError) as exc:
        log.info("PII scan stays in one process: %s", type(exc).__name__)
        return None
    return [spans for part in parts for spans in part]


def wants_ner(doc: Any) -> bool:
    """Whether NER has work in this text: a capitalised word that is not a common word
    (sentence starts such as "Customer", "Kunden", "Please" do not count) and that the cue
    rules did not already mark as part of a name ("customer Anders Jensen")."""
    from atlas.pii.recognizers.names import names_left_to_ner

    return any(names_left_to_ner(doc))


NER_WINDOW_RADIUS = 3  # tokens of context kept on each side of a candidate name word


def candidate_windows(doc: Any, radius: int = NER_WINDOW_RADIUS) -> list[tuple[int, int]]:
    """Merged token ranges of +-radius tokens around each name word left to NER."""
    from atlas.pii.recognizers.names import names_left_to_ner

    windows: list[tuple[int, int]] = []
    for i, flag in enumerate(names_left_to_ner(doc)):
        if not flag:
            continue
        start, end = max(0, i - radius), min(len(doc), i + radius + 1)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], end))
        else:
            windows.append((start, end))
    return windows


def ner_in_windows(docs: Sequence[Any], *, batch_size: int) -> None:
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
    for (k, offset), window in zip(where, run_ner(tokenize(texts), batch_size=batch_size), strict=True):
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
        """Spans per text (same order); each list sorted and non-overlapping. Large batches are
        spread over worker processes (``n_process``)."""
        unique = list(dict.fromkeys(texts))
        ctx = list(context) if context else None
        processes = min(self.options.n_process or default_n_process(), len(unique) // MIN_TEXTS_PER_PROCESS)
        spans = scan_in_processes(self.options, unique, ctx, processes) if processes > 1 else None
        if spans is None:
            spans = self.scan_serial(unique, context=ctx)
        found = dict(zip(unique, spans, strict=True))
        return [found[t] for t in texts]

    def scan_serial(self, texts: Sequence[str], *, context: Sequence[str] | None = None) -> list[list[Span]]:
        """:meth:`scan` in this process, for distinct texts."""
        from atlas.pii.recognizers.names import name_flags

        unique = list(texts)
        docs = tokenize(unique)
        with_ner = {i for i, doc in enumerate(docs) if self.uses_ner and wants_ner(doc)}
        ner_in_windows([docs[i] for i in sorted(with_ner)], batch_size=self.options.batch_size)
        nlp_engine = self.engine.nlp_engine
        ctx = list(context) if context else None
        found: dict[str, list[Span]] = {}
        for i, (text, doc) in enumerate(zip(unique, docs, strict=True)):
            entities = self.entities_for(text, named=self.uses_ner and any(name_flags(doc)))
            if not entities:
                found[text] = []
                continue
            results = self.engine.analyze(
                text,
                language=self.language,
                entities=entities,
                score_threshold=self.options.score_threshold,
                nlp_artifacts=nlp_engine.artifacts(doc, self.language, named=i in with_ner),
                context=ctx,
            )
            found[text] = resolve_overlaps(
                [
                    Span(r.start, r.end, r.entity_type, round(float(r.score), 4),
                         (r.recognition_metadata or {}).get("recognizer_name", ""),
                         bool((r.recognition_metadata or {}).get(PLACE_NAME_KEY)))
                    for r in results
                ]
            )
        return [found[t] for t in unique]
