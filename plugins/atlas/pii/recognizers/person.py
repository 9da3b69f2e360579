"""Person names: spaCy NER, cleaned and widened to whole names, plus cue-word rules."""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from atlas.pii.entities import PERSON
from atlas.pii.recognizers.base import AtlasRecognizer
from atlas.pii.recognizers.names import CUE_SCORE, clean_ner_span, cue_name_spans, widen_name_span


class PersonRecognizer(AtlasRecognizer):
    """``PERSON``.

    The small English model misses or clips many names ("Anders Jensen" -> "Jensen"), so:
    NER spans are trimmed of non-name words and widened over neighbouring capitalised name
    tokens; titles (Mr, Mrs, Ms, Dr, Hr., Fru) followed by capitalised words are names; and
    capitalised sequences after a cue word ("customer", "kunden", "spoke with", "handled
    by") or before a verb ("... asked", "... ringede") are names (see ``names.py``).
    """

    ATLAS_NAME = "person"
    ENTITY = PERSON
    TITLE_SCORE = 0.7
    TITLE_PATTERN = re.compile(
        r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Hr|Fru|Frk)\.?\s+"
        r"((?:[A-ZÆØÅÄÖÜ][\w'\u2019]+(?:-[A-ZÆØÅÄÖÜ][\w'\u2019]+)?\s?){1,3})"
    )
    CONTEXT = {
        "en": ["name", "customer", "contact", "mr", "mrs", "ms", "spoke", "called", "wife", "husband"],
        "da": ["navn", "kunde", "kunden", "kontakt", "hr", "fru", "talte", "ringede", "kone", "mand"],
    }

    def find(self, text: str, nlp_artifacts: NlpArtifacts | None) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        if nlp_artifacts is not None and nlp_artifacts.tokens is not None:
            doc = nlp_artifacts.tokens
            for ent, score in zip(nlp_artifacts.entities, nlp_artifacts.scores, strict=False):
                if ent.label_ != PERSON:
                    continue
                cleaned = clean_ner_span(doc, ent.start, ent.end)
                if cleaned is not None:
                    results.append(self._token_result(doc, *widen_name_span(doc, *cleaned), score))
            for start, end in cue_name_spans(doc):
                results.append(self._token_result(doc, start, end, CUE_SCORE))
        for match in self.TITLE_PATTERN.finditer(text):
            name = match.group(1).rstrip()
            results.append(self._result(match.start(1), match.start(1) + len(name), self.TITLE_SCORE))
        return results

    def _token_result(self, doc: object, start: int, end: int, score: float) -> RecognizerResult:
        first, last = doc[start], doc[end - 1]  # type: ignore[index]
        return self._result(first.idx, last.idx + len(last.text), score)

