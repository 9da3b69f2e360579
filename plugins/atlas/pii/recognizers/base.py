"""Base of Atlas's own (non-pattern) recognizers: one entity, a config name, context words."""

from __future__ import annotations

from typing import Any, ClassVar

from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts


class AtlasRecognizer(LocalRecognizer):
    """Subclasses set ``ATLAS_NAME``, ``ENTITY``, ``CONTEXT`` and implement ``find``."""

    ATLAS_NAME: ClassVar[str]
    ENTITY: ClassVar[str]
    CONTEXT: ClassVar[dict[str, list[str]]]

    def __init__(self, supported_language: str = "en", context: list[str] | None = None) -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            name=self.ATLAS_NAME,
            supported_language=supported_language,
            context=context or self.CONTEXT.get(supported_language, self.CONTEXT["en"]),
        )

    def load(self) -> None:
        """Nothing to load: where NER is used, it runs once per batch in the scanner."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if self.ENTITY not in entities:
            return []
        return self.find(text, nlp_artifacts)

    def find(self, text: str, nlp_artifacts: NlpArtifacts | None) -> list[RecognizerResult]:
        raise NotImplementedError

    def _result(self, start: int, end: int, score: float, **metadata: Any) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.ENTITY,
            start=start,
            end=end,
            score=score,
            analysis_explanation=AnalysisExplanation(
                recognizer=self.name, original_score=score, textual_explanation=self.ATLAS_NAME
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                **metadata,
            },
        )
