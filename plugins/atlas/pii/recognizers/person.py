"""Person names: spaCy NER, widened to whole names, plus title patterns."""

from __future__ import annotations

import re

from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from atlas.pii.entities import PERSON


class PersonRecognizer(LocalRecognizer):
    """``PERSON`` from the NER model.

    The small English model often tags only part of a name ("Anders Jensen" -> "Jensen"), so
    each NER span is widened over neighbouring capitalised name tokens (and hyphenated
    parts). Titles (Mr, Mrs, Ms, Dr, hr., fru) followed by capitalised words are names too.
    """

    ATLAS_NAME = "person"
    TITLE_PATTERN = re.compile(
        r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Hr|Fru|Frk)\.?\s+((?:[A-ZÆØÅÄÖÜ][\w'\u2019]+(?:-[A-ZÆØÅÄÖÜ][\w'\u2019]+)?\s?){1,3})"
    )
    CONTEXT = {
        "en": ["name", "customer", "contact", "mr", "mrs", "ms", "spoke", "called", "wife", "husband"],
        "da": ["navn", "kunde", "kunden", "kontakt", "hr", "fru", "talte", "ringede", "kone", "mand"],
    }
    NER_SCORE_KEY = "ner"

    def __init__(self, supported_language: str = "en", context: list[str] | None = None) -> None:
        super().__init__(
            supported_entities=[PERSON],
            name=self.ATLAS_NAME,
            supported_language=supported_language,
            context=context or self.CONTEXT.get(supported_language, self.CONTEXT["en"]),
        )

    def load(self) -> None:
        """Nothing to load: the NER pass runs once per batch in the scanner."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        from atlas.pii.recognizers.names import widen_name_span

        results: list[RecognizerResult] = []
        if PERSON not in entities:
            return results
        if nlp_artifacts is not None:
            doc = nlp_artifacts.tokens
            for ent, score in zip(nlp_artifacts.entities, nlp_artifacts.scores, strict=False):
                if ent.label_ != PERSON:
                    continue
                start, end = widen_name_span(doc, ent.start, ent.end)
                results.append(self._result(doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text), score))
        for match in self.TITLE_PATTERN.finditer(text):
            name = match.group(1).rstrip()
            results.append(self._result(match.start(1), match.start(1) + len(name), 0.7))
        return results

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            entity_type=PERSON,
            start=start,
            end=end,
            score=score,
            analysis_explanation=AnalysisExplanation(
                recognizer=self.name, original_score=score, textual_explanation=self.ATLAS_NAME
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )
