"""Person names: spaCy NER, cleaned and widened to whole names, plus cue-word rules."""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from atlas.pii.entities import PERSON
from atlas.pii.recognizers.base import AtlasRecognizer
from atlas.pii.recognizers.names import (
    COMMON_WORDS,
    CUE_SCORE,
    PARTICLES,
    TokenTable,
    clean_ner_span,
    cue_name_spans,
    has_digit,
    names_an_organisation,
    sentence_start,
    token_table,
    widen_name_span,
)

# Titles and honorifics before a name (en, da, de, nl, fr, pl, it, es ...), case as written.
TITLES = "|".join(re.escape(t) for t in sorted({
    "Mr", "Mrs", "Ms", "Mx", "Miss", "Mister", "Dr", "Prof", "Professor", "Sir", "Dame", "Lady", "Lord", "Rev",
    "Hr", "Herr", "Fru", "Frk", "Frau", "Fr", "Ing", "Dipl.-Ing", "Dipl.-Kfm", "Mag", "DI", "Dott", "Dott.ssa",
    "Sig", "Sig.ra", "Sr", "Sra", "Srta", "Mme", "Mlle", "Dhr", "Mevr", "Pan", "Pani", "Direktør", "Advokat",
    "Læge", "Overlæge", "Pastor", "Lektor", "Docent", "Rektor", "Direktor", "Doktor",
}, key=len, reverse=True))
# Degrees and post-nominals after a name: "Anne Berg, MBA", "Jens Holm (PhD)".
POST_NOMINALS = r"MBA|PhD|Ph\.D\.|MSc|M\.Sc\.?|BSc|B\.Sc\.?|MD|LL\.M\.?|Esq\.?|cand\.\w+\.?|dipl\.\w+\.?"
_UPPER = "".join(ch for ch in map(chr, range(0x41, 0x250)) if ch.isupper())  # Latin capitals
_CAP = rf"(?:[{_UPPER}][\w'\u2019]*)"  # a word starting with a capital
_UNCASED = r"(?:[\u0590-\u05FF\u0600-\u06FF\u3400-\u9FFF]{2,})"  # Hebrew, Arabic, CJK words
_PARTICLE = "|".join(sorted(PARTICLES, key=len, reverse=True))
_PART = rf"(?:(?:(?:{_PARTICLE})\s+)*{_CAP}(?:-{_CAP})*)"
NAME = rf"(?:{_PART}(?:\s+{_PART}){{0,3}}|{_UNCASED}(?:\s+{_UNCASED}){{0,2}})"


class PersonRecognizer(AtlasRecognizer):
    """``PERSON``.

    The small English model misses or clips many names ("Anders Jensen" -> "Jensen"), so:
    NER spans are trimmed of non-name words and widened over neighbouring capitalised name
    tokens; titles and honorifics (Mr, Dr., Prof. Dr., Hr., Fru, Herr, Ing., Dipl.-Ing. ...)
    followed by a name, and names followed by a degree (", MBA", " (PhD)"), are names, with
    particles (van der, von) and hyphens (Anne-Sofie Kjeldsen-Lassen) inside and in Hebrew,
    Arabic or Chinese script too; and capitalised sequences after a cue word ("customer",
    "kunden", "spoke with", "handled by") or before a verb ("... asked", "... ringede") are
    names (see ``names.py``).
    """

    ATLAS_NAME = "person"
    ENTITY = PERSON
    TITLE_SCORE = 0.7
    LONE_SCORE = 0.3
    TITLE_PATTERN = re.compile(rf"(?<![\w.-])(?:{TITLES})\.?(?:\s+(?:{TITLES})\.?)*\s+({NAME})")
    POST_NOMINAL_PATTERN = re.compile(rf"(?<![\w.-])({NAME}),?\s*\(?(?:{POST_NOMINALS})(?![\w-])")
    CONTEXT = {
        "en": ["name", "customer", "contact", "mr", "mrs", "ms", "spoke", "called", "wife", "husband"],
        "da": ["navn", "kunde", "kunden", "kontakt", "hr", "fru", "talte", "ringede", "kone", "mand"],
    }

    def find(self, text: str, nlp_artifacts: NlpArtifacts | None) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        if nlp_artifacts is not None and nlp_artifacts.tokens is not None:
            doc = nlp_artifacts.tokens
            table = token_table(doc)
            for ent, score in zip(nlp_artifacts.entities, nlp_artifacts.scores, strict=False):
                if ent.label_ != PERSON or any(has_digit(t) for t in table.text[ent.start : ent.end]):
                    continue  # a "name" with a number in it (an invoice, a card) is no name
                cleaned = clean_ner_span(doc, ent.start, ent.end)
                if cleaned is None:
                    continue
                start, end = widen_name_span(doc, *cleaned)
                if names_an_organisation(doc, start, end):
                    continue
                if end - start == 1 and sentence_start(doc, start):
                    score = self.LONE_SCORE  # a lone capitalised word opening a sentence: needs support
                results.append(self._token_result(table, start, end, score))
            for start, end in cue_name_spans(doc):
                results.append(self._token_result(table, start, end, CUE_SCORE))
        for pattern in (self.TITLE_PATTERN, self.POST_NOMINAL_PATTERN):
            for match in pattern.finditer(text):
                name = match.group(1).rstrip()
                if name.lower() not in COMMON_WORDS:
                    results.append(self._result(match.start(1), match.start(1) + len(name), self.TITLE_SCORE))
        return results

    def _token_result(self, table: TokenTable, start: int, end: int, score: float) -> RecognizerResult:
        return self._result(table.idx[start], table.idx[end - 1] + len(table.text[end - 1]), score)

