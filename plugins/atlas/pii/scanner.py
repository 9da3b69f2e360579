"""Batched PII span detection over many texts.

Texts are tokenized once; one NER pass (spaCy ``nlp.pipe``, ``ner`` only, batched) runs over
short windows around the candidate name words of the texts that have any (see
:func:`ner_in_windows`); then Presidio's AnalyzerEngine runs the recognizers and context
enhancement on the precomputed artifacts, only for entities that can occur in each text.
Texts are normalised first (zero-width and bidi characters removed, NFC) with offsets mapped
back. Each distinct text is scanned once; inside ``with scanner:`` large batches are spread
over worker processes created once per scanner (see :class:`ScanPool`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from atlas.pii.engine import ENTS_KEY, LABEL_TO_ENTITY, analyzer_engine, doc_text, needs_ner, run_ner, tokenize
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

if TYPE_CHECKING:
    from atlas.pii.known_values import KnownValues

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
    n_process: int | None = None  # worker processes (inside ``with scanner:``); None: default_n_process()
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


PARALLEL_BATCH = 250  # distinct texts per task sent to a worker process
CACHE_LIMIT = 100_000  # distinct texts whose spans are remembered across calls (per context)


def default_n_process() -> int:
    """``ATLAS_PII_N_PROCESS`` if set, else one worker per core (at most 4)."""
    configured = os.environ.get("ATLAS_PII_N_PROCESS")
    if configured:
        return max(1, int(configured))
    return max(1, min(4, os.cpu_count() or 1))


_WORKER_SCANNER: TextScanner | None = None


def _init_worker(options: ScanOptions, known_values: KnownValues | None) -> None:
    """Worker set-up (once per worker process): the forked worker inherits the loaded model,
    engine and known-value index, builds its scanner from them, and leaves signals to their
    defaults (the parent's task-runner handlers do not belong in a worker)."""
    import signal

    global _WORKER_SCANNER
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_SCANNER = TextScanner(options, known_values=known_values)


def _scan_batch(texts: list[str], context: list[str] | None) -> tuple[int, list[list[Span]], int]:
    if _WORKER_SCANNER is None:
        raise RuntimeError("PII scan worker was not initialised")
    before = _WORKER_SCANNER.stats.known_value_spans
    spans = _WORKER_SCANNER.scan_serial(texts, context=context)
    return os.getpid(), spans, _WORKER_SCANNER.stats.known_value_spans - before


class ScanPool:
    """Worker processes for one task: created once on first use (fork, so workers share the
    parent's loaded model), fed batches of distinct texts, and shut down with
    :meth:`close`, which waits for running batches and joins every worker. Nothing is ever
    terminated while it may hold a lock."""

    def __init__(self, options: ScanOptions, processes: int, known_values: KnownValues | None = None) -> None:
        self.options = options
        self.processes = processes
        self.known_values = known_values
        self._executor: Any = None
        self.broken = False
        self.batches = 0
        self.worker_pids: set[int] = set()

    def submit(self, texts: list[str], context: list[str] | None) -> Any:
        """A future of (worker pid, spans); None when no worker process can be started here."""
        if self.broken:
            return None
        try:
            if self._executor is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                if "fork" not in multiprocessing.get_all_start_methods():
                    self.broken = True
                    return None
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes, mp_context=multiprocessing.get_context("fork"),
                    initializer=_init_worker, initargs=(self.options, self.known_values),
                )
            future = self._executor.submit(_scan_batch, texts, context)
        except (AssertionError, OSError) as exc:  # no fork here, or a daemonic parent process
            log.info("PII scan stays in this process: %s", type(exc).__name__)
            self.broken = True
            self.close()
            return None
        self.batches += 1
        return future

    def close(self) -> None:
        """Wait for submitted batches, then stop and join the workers (idempotent)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


@dataclass
class ScanStats:
    """Counts for the task summary (never values)."""

    texts: int = 0  # texts asked for, duplicates included
    scanned: int = 0  # distinct texts scanned (each once)
    cached: int = 0  # distinct texts answered from earlier calls
    known_value_spans: int = 0  # spans of the table's own values found in the scanned texts
    parallel_batches: int = 0
    workers: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


DIGIT_MASK = str.maketrans("0123456789", "5555555555")
_DROP_DIGITS = str.maketrans("", "", "0123456789")
# What a text needs before a pattern entity can match in it (every recognizer's patterns need it).
MIN_DIGITS = {PHONE_NUMBER: 7, CREDIT_CARD: 12, DK_CPR: 10, IBAN_CODE: 2, IP_ADDRESS: 2}
SHAPES = {
    DK_CPR: re.compile(r"\d{6}"),
    IBAN_CODE: re.compile(r"[A-Za-z]{2}[ -]?\d{2}"),
    IP_ADDRESS: re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:"),
}


def can_hold(entity: str, text: str, digits: int) -> bool:
    """Whether ``text`` (with ``digits`` ASCII digits) has what a match of ``entity`` needs."""
    if digits < MIN_DIGITS.get(entity, 1):
        return False
    shape = SHAPES.get(entity)
    return shape is None or shape.search(text) is not None
EMAIL_LIKE = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+")


def token_view(text: str) -> str:
    """The text the tokenizer and NER see: digits as ``5`` and email addresses as ``x`` (same
    length, so offsets are unchanged). Pattern recognizers read the real text; names and context
    words never hold digits or sit inside an address. Every distinct number or address would
    otherwise become a new entry in spaCy's vocabulary (slow, and memory that grows with the
    day's size)."""
    if "@" in text:
        text = EMAIL_LIKE.sub(lambda m: re.sub(r"[^@.]", "x", m.group()), text)
    return text.translate(DIGIT_MASK)


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


IOB_BEGIN, IOB_INSIDE = 3, 1


def window_entities(window: Any) -> list[tuple[int, int, str]]:
    """(start char, end char, label) of the kept NER entities of a processed doc, read from its
    arrays (``doc.ents`` builds a Token object per token)."""
    from spacy.attrs import ENT_IOB, ENT_TYPE, IDX, LENGTH

    found: list[list[int]] = []
    current: list[int] | None = None
    for iob, label, idx, length in window.to_array([ENT_IOB, ENT_TYPE, IDX, LENGTH]).tolist():
        if iob == IOB_BEGIN:
            current = [idx, idx + length, label]
            found.append(current)
        elif iob == IOB_INSIDE and current is not None:
            current[1] = idx + length
        else:
            current = None
    strings = window.vocab.strings
    return [(a, b, strings[label]) for a, b, label in found if strings[label] in LABEL_TO_ENTITY]


def ner_in_windows(docs: Sequence[Any], *, batch_size: int) -> None:
    """Record NER entities of each doc (``doc.user_data[ENTS_KEY]``) from NER over the windows
    around its candidate name words.

    The small model's decisions depend on a few tokens around a word (its CNN sees four on each
    side), so NER over short windows finds nearly what it finds over the whole text at about
    half the cost; lower-case stretches far from any capitalised word are skipped."""
    from atlas.pii.recognizers.names import token_table

    where: list[tuple[int, int]] = []
    texts: list[str] = []
    for k, doc in enumerate(docs):
        table = token_table(doc)
        for start, end in candidate_windows(doc):
            first = table.idx[start]
            where.append((k, first))
            texts.append(doc_text(doc)[first : table.idx[end - 1] + len(table.text[end - 1])])
    found: dict[int, list[tuple[int, int, str]]] = {}
    for (k, offset), window in zip(where, run_ner(tokenize(texts), batch_size=batch_size), strict=True):
        for start_char, end_char, label in window_entities(window):
            span = docs[k].char_span(offset + start_char, offset + end_char, alignment_mode="expand")
            if span is not None:
                found.setdefault(k, []).append((span.start, span.end, label))
    for k, spans in found.items():
        kept: list[tuple[int, int, str]] = []
        for span in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):  # longest first, like filter_spans
            if all(span[1] <= other[0] or other[1] <= span[0] for other in kept):
                kept.append(span)
        docs[k].user_data[ENTS_KEY] = sorted(kept)


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


class PendingScan:
    """A scan in progress: batches may be running in worker processes; :meth:`result` waits."""

    def __init__(self, scanner: TextScanner, texts: Sequence[str], todo: list[str], context: list[str] | None,
                 futures: list[Any] | None, cached: dict[str, list[Span]] | None = None) -> None:
        self.scanner, self.texts, self.todo, self.context, self.futures = scanner, texts, todo, context, futures
        self.cached = cached or {}  # spans the cache held at the start (it may evict them before the result)

    def result(self) -> list[list[Span]]:
        scanner = self.scanner
        if self.futures is not None:
            spans: list[list[Span]] = []
            for future in self.futures:
                pid, part, known = future.result()
                scanner.pool_pids.add(pid)
                scanner.stats.known_value_spans += known
                spans.extend(part)
        else:
            spans = scanner.scan_serial(self.todo, context=self.context)
        found = dict(zip(self.todo, spans, strict=True))
        cache = scanner.cache_for(self.context)
        if len(cache) + len(found) > CACHE_LIMIT:
            for key in list(cache)[: len(cache) // 2 + len(found)]:
                del cache[key]
        cache.update(found)
        return [found[t] if t in found else self.cached[t] for t in self.texts]


class TextScanner:
    """Detects PII spans in batches of texts with the cached AnalyzerEngine.

    Every configured language's recognizers carry the context words of all configured
    languages and share the one NER model, so each text is analyzed once (under the first
    language); recognizers that cannot match a text (no digit, no ``@``) are not run on it.
    Texts are normalised first (format characters removed, NFC; spans map back to the
    original). Each distinct text is scanned once per scanner (a bounded cache spans calls).

    With ``known_values`` (the table's own structured values), their spans are found in every
    text and merged with the detectors' spans before overlaps are resolved; NER skips the words
    they cover.

    Used as a context manager (``with scanner:``), large batches go to worker processes that
    are created once, on first need, and closed and joined when the block ends (they match the
    known values too); outside such a block everything runs in this process.
    """

    def __init__(self, options: ScanOptions, known_values: KnownValues | None = None) -> None:
        self.options = options
        self.known_values = known_values
        self.engine = analyzer_engine(tuple(options.recognizers), tuple(options.languages))
        self.language = options.languages[0]
        supported = set(self.engine.get_supported_entities(self.language))
        self.ner_entities = sorted(supported & NER_ENTITIES)
        self.digit_entities = sorted(supported & DIGIT_ENTITIES)
        self.at_entities = sorted(supported & AT_ENTITIES)
        self.uses_ner = needs_ner(options.recognizers)
        self.stats = ScanStats()
        self.pool_pids: set[int] = set()
        self._caches: dict[tuple[str, ...], dict[str, list[Span]]] = {}
        self._pool: ScanPool | None = None
        self._pool_allowed = False

    # ---------------------------------------------------------------- worker processes
    def __enter__(self) -> TextScanner:
        self._pool_allowed = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close and join the worker processes, if any were started."""
        self._pool_allowed = False
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    @property
    def processes(self) -> int:
        return self.options.n_process or default_n_process()

    def _pool_for(self, distinct: int) -> ScanPool | None:
        if not self._pool_allowed or self.processes < 2 or distinct < 2 * PARALLEL_BATCH:
            return None
        if self._pool is None:
            self._pool = ScanPool(self.options, self.processes, self.known_values)
        return None if self._pool.broken else self._pool

    def cache_for(self, context: Sequence[str] | None) -> dict[str, list[Span]]:
        return self._caches.setdefault(tuple(context or ()), {})

    def summary(self) -> dict[str, int]:
        """Counts of this scanner's work (texts, distinct texts scanned, batches, workers)."""
        self.stats.workers = len(self.pool_pids)
        return self.stats.as_dict()

    # ---------------------------------------------------------------- scanning
    def entities_for(self, text: str, *, named: bool = True) -> list[str]:
        """Entities worth looking for in ``text``: names and places only when it has a candidate
        name word (``named``) or digits (street numbers), patterns only where they can match
        (enough digits, a run of six for a CPR, two letters and two digits for an IBAN ...)."""
        digits = len(text) - len(text.translate(_DROP_DIGITS))
        entities = list(self.ner_entities) if named or digits else []
        if digits:
            entities += [e for e in self.digit_entities if can_hold(e, text, digits)]
        if "@" in text:
            entities += self.at_entities
        return entities

    def scan(self, texts: Sequence[str], *, context: Sequence[str] | None = None) -> list[list[Span]]:
        """Spans per text (same order); each list sorted and non-overlapping."""
        return self.start(texts, context=context).result()

    def start(self, texts: Sequence[str], *, context: Sequence[str] | None = None) -> PendingScan:
        """Start scanning ``texts``: distinct texts not seen before go to the worker processes
        (inside ``with scanner:``, for large batches) or wait for :meth:`PendingScan.result`."""
        ctx = list(context) if context else None
        cache = self.cache_for(ctx)
        unique = list(dict.fromkeys(texts))
        cached = {t: cache[t] for t in unique if t in cache}
        todo = [t for t in unique if t not in cached]
        self.stats.texts += len(texts)
        self.stats.cached += len(unique) - len(todo)
        self.stats.scanned += len(todo)
        futures: list[Any] | None = None
        pool = self._pool_for(len(todo))
        if pool is not None:
            futures = []
            for i in range(0, len(todo), PARALLEL_BATCH):
                future = pool.submit(todo[i : i + PARALLEL_BATCH], ctx)
                if future is None:  # workers cannot start here: everything in this process
                    for started in futures:
                        started.cancel()
                    futures = None
                    break
                futures.append(future)
            if futures is not None:
                self.stats.parallel_batches += len(futures)
        return PendingScan(self, texts, todo, ctx, futures, cached)

    def scan_serial(self, texts: Sequence[str], *, context: Sequence[str] | None = None) -> list[list[Span]]:
        """Spans of distinct ``texts`` in this process: the known values' spans (if any) and the
        detectors' (on the normalised texts, offsets mapped back), merged."""
        from atlas.pii.normalize import normalize

        known = self.known_values.find(texts) if self.known_values is not None else None
        views = [normalize(t) for t in texts]
        # Known ranges let NER skip words where normalising left the text as it was (same offsets).
        ranges = ([[(s.start, s.end) for s in k] if k and not v.changed else None
                   for v, k in zip(views, known, strict=True)] if known is not None else None)
        spans = self._scan_normalised([v.text for v in views], context=context, known=ranges)
        out = []
        for i, (view, found) in enumerate(zip(views, spans, strict=True)):
            if view.changed:
                found = [Span(*view.original_span(s.start, s.end), s.entity, s.score, s.recognizer, s.place_name)
                         for s in found]
            if known is not None and known[i]:
                self.stats.known_value_spans += len(known[i])
                found = resolve_overlaps([*found, *known[i]])
            out.append(found)
        return out

    def _scan_normalised(self, texts: Sequence[str], *, context: Sequence[str] | None = None,
                         known: Sequence[list[tuple[int, int]] | None] | None = None) -> list[list[Span]]:
        from atlas.pii.recognizers.names import KNOWN_KEY, name_flags

        unique = list(texts)
        docs = tokenize([token_view(t) for t in unique])
        if known:
            for doc, ranges in zip(docs, known, strict=True):
                if ranges:
                    doc.user_data[KNOWN_KEY] = ranges
        with_ner = {i for i, doc in enumerate(docs) if self.uses_ner and wants_ner(doc)}
        ner_in_windows([docs[i] for i in sorted(with_ner)], batch_size=self.options.batch_size)
        nlp_engine = self.engine.nlp_engine
        ctx = list(context) if context else None
        found: list[list[Span]] = []
        for i, (text, doc) in enumerate(zip(unique, docs, strict=True)):
            entities = self.entities_for(text, named=self.uses_ner and any(name_flags(doc)))
            if not entities:
                found.append([])
                continue
            results = self.engine.analyze(
                text,
                language=self.language,
                entities=entities,
                score_threshold=self.options.score_threshold,
                nlp_artifacts=nlp_engine.artifacts(doc, self.language, named=i in with_ner),
                context=ctx,
            )
            found.append(resolve_overlaps(
                [
                    Span(r.start, r.end, r.entity_type, round(float(r.score), 4),
                         (r.recognition_metadata or {}).get("recognizer_name", ""),
                         bool((r.recognition_metadata or {}).get(PLACE_NAME_KEY)))
                    for r in results
                ]
            ))
        return found
