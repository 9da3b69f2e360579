"""Presidio's context enhancement rule, computed on token arrays instead of Token objects."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import lru_cache
from typing import Any

from presidio_analyzer import RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

WORDS_BEFORE = 7
WORDS_AFTER = 2
WORDS_KEY = "atlas_context_words"
_SPLIT = re.compile(r"[.\-:/']+")
_SEPARATED = re.compile(r"[.\-:/']")


@lru_cache(maxsize=65536)
def word_forms(word: str) -> tuple[str, ...]:
    """A lower-cased token and its parts: ``cpr.nr`` -> (cpr.nr, cpr, nr); ``tlf.`` -> (tlf., tlf)."""
    if not _SEPARATED.search(word):
        return (word,)
    return (word, *(p for p in _SPLIT.split(word) if p))


def token_words(doc: Any) -> tuple[list[int], list[str]]:
    """(start offsets, lower-cased words) of the non-punctuation tokens of ``doc``, from the
    doc's token table (computed once per doc, no Token objects)."""
    cached = doc.user_data.get(WORDS_KEY)
    if cached is None:
        from atlas.pii.recognizers.names import token_table

        table = token_table(doc)
        starts, words = [], []
        for start, lower, punct in zip(table.idx, table.lower, table.punct, strict=True):
            if not punct:
                starts.append(start)
                words.append(lower)
        cached = (starts, words)
        doc.user_data[WORDS_KEY] = cached
    return cached


def has_context(words: list[str], wanted: frozenset[str]) -> bool:
    return any(form in wanted for word in words for form in word_forms(word))


class InPlaceContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's default rule (a recognizer's context word among the words around a match, or
    among the caller's context words, raises its score by 0.35 to at least 0.4), matching whole
    lower-cased words (or their parts: ``cpr.nr``, ``tlf.``) over the seven words before and
    two after a match. Results are fresh
    objects, so they are updated in place instead of deep-copied."""

    def __init__(self) -> None:
        super().__init__(
            context_prefix_count=WORDS_BEFORE, context_suffix_count=WORDS_AFTER, context_matching_mode="whole_word"
        )
        self._contexts: dict[str, frozenset[str]] = {}

    def _context_of(self, recognizer: Any) -> frozenset[str]:
        words = self._contexts.get(recognizer.id)
        if words is None:
            words = frozenset(w.lower() for w in recognizer.context or ())
            self._contexts[recognizer.id] = words
        return words

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: Any,
        recognizers: list[Any],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        if not raw_results:
            return raw_results
        by_id = {recognizer.id: recognizer for recognizer in recognizers}
        extra = {word.lower() for word in context} if context else set()
        doc = getattr(nlp_artifacts, "tokens", None)
        starts, words = token_words(doc) if doc is not None else ([], [])
        for result in raw_results:
            metadata = result.recognition_metadata or {}
            recognizer = by_id.get(metadata.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            if recognizer is None or not recognizer.context:
                continue
            if metadata.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                continue
            wanted = self._context_of(recognizer)
            first = bisect_left(starts, result.start)  # words starting before the match ("Tlf (0113) ...")
            after = bisect_right(starts, max(result.end - 1, result.start))
            before = words[max(0, first - WORDS_BEFORE) : first]
            following = words[after : after + WORDS_AFTER]
            if wanted & extra or has_context(before, wanted) or has_context(following, wanted):
                result.score = min(
                    max(result.score + self.context_similarity_factor, self.min_score_with_context_similarity),
                    self.MAX_SCORE,
                )
        return raw_results
