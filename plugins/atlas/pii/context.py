"""Presidio's lemma context enhancement, without copying every result first."""

from __future__ import annotations

from typing import Any

from presidio_analyzer import RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer


class InPlaceContextEnhancer(LemmaContextAwareEnhancer):
    """Same rule as Presidio's default (a recognizer's context word among the words around a
    match, or among the caller's context words, raises its score by 0.35 to at least 0.4),
    matching whole words over the seven words before and two after a match, updating the fresh results in place."""

    def __init__(self) -> None:
        super().__init__(context_prefix_count=7, context_suffix_count=2, context_matching_mode="whole_word")

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: Any,
        recognizers: list[Any],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        if not raw_results or nlp_artifacts is None:
            return raw_results
        by_id = {recognizer.id: recognizer for recognizer in recognizers}
        extra = [word.lower() for word in context] if context else []
        for result in raw_results:
            metadata = result.recognition_metadata or {}
            recognizer = by_id.get(metadata.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            if recognizer is None or not recognizer.context:
                continue
            if metadata.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                continue
            words = self._extract_surrounding_words(
                nlp_artifacts=nlp_artifacts, word=text[result.start : result.end], start=result.start
            )
            words.extend(extra)
            if self._find_supportive_word_in_context(words, recognizer.context, self.context_matching_mode):
                result.score = min(
                    max(result.score + self.context_similarity_factor, self.min_score_with_context_similarity),
                    self.MAX_SCORE,
                )
        return raw_results
