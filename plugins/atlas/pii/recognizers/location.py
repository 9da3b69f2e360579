"""Locations and street addresses: spaCy NER places plus address patterns."""

from __future__ import annotations

import re
from typing import Any

from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from atlas.pii.entities import LOCATION, PLACE_NAME_KEY
from atlas.pii.recognizers.base import AtlasRecognizer
from atlas.pii.recognizers.names import COMMON_WORDS, has_digit

_UPPER = "A-ZÆØÅÄÖÜ"
_WORD = r"[\wæøåäöüß'\u2019.-]"
# "Nørregade 12", "Buntmagervej 166, 2. th", "Zirmeplatz 17", "Gengatan 706"
_NORDIC_STREET = (
    rf"[{_UPPER}]{_WORD}*(?:\s[{_UPPER}]{_WORD}*)?"
    r"(?:gade|vej|allé|alle|plads|torv|stræde|boulevard|vænget|vænge|parken|park|toften|bakken|straße|strasse|"
    r"weg|platz|gasse|ring|gatan|vägen|väg|gränd|torget|veien|gata)"
    r"\s\d{1,4}\s?[A-Za-z]?\b(?:,?\s\d{1,2}\.?\s?(?:tv|th|mf|sal)\b\.?)?"
)
# "70669 Heather Grove", "12 High Street"
_ENGLISH_STREET = (
    r"\b\d{1,5}\s(?:[" + _UPPER + r"][a-z]+\s){1,3}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Grove|Square|Sq|Terrace|"
    r"Boulevard|Blvd|Crescent|Close|Gardens|Park|Row|Hill|Walk|Mews|Circle|Trail|Parkway|Plaza)\b\.?"
    r"(?:,?\s(?:Apt|Suite|Unit|Flat)\.?\s\w+)?"
)
# Postal code + town after a street: ", 2100 København Ø", " / 69074 Saarbrücken"
_POSTAL_TOWN = (
    rf"(?:,?\s*(?:/\s*)?(?:DK-)?\d{{4,5}}\s[{_UPPER}][\wæøåäöü-]+"
    rf"(?:\s[{_UPPER}]\b\.?|\s[{_UPPER}][\wæøåäöü]+)?)?"
)
_DIGIT = re.compile(r"\d")
ADDRESS_PATTERN = re.compile(rf"(?:{_NORDIC_STREET}|{_ENGLISH_STREET}){_POSTAL_TOWN}")


def plausible_place(span: Any) -> bool:
    """An NER place worth keeping: some capitalised word that is not a common word, and no
    single token with digits (order numbers, product codes)."""
    words = [t for t in span if t.is_alpha]
    if len(span) == 1 and has_digit(span.text):
        return False
    return any(t.text[0].isupper() and t.lower_ not in COMMON_WORDS for t in words)


class LocationRecognizer(AtlasRecognizer):
    """``LOCATION``: places the NER model finds (GPE, LOC, FAC) and street addresses
    (Danish, Nordic, German and English street forms, with postal code and town)."""

    ATLAS_NAME = "location"
    ENTITY = LOCATION
    ADDRESS_SCORE = 0.75
    CONTEXT = {
        "en": ["address", "street", "lives", "moved", "city", "deliver", "shipping"],
        "da": ["adresse", "bopæl", "bor", "flyttet", "by", "levering", "leveringsadresse"],
    }

    def find(self, text: str, nlp_artifacts: NlpArtifacts | None) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        if nlp_artifacts is not None:
            for ent, score in zip(nlp_artifacts.entities, nlp_artifacts.scores, strict=False):
                if ent.label_ == LOCATION and plausible_place(ent):
                    results.append(self._result(ent.start_char, ent.end_char, score, place_name=True))
        if _DIGIT.search(text):
            for match in ADDRESS_PATTERN.finditer(text):
                results.append(self._result(match.start(), match.end(), self.ADDRESS_SCORE))
        return results

    def _result(self, start: int, end: int, score: float, *, place_name: bool = False) -> RecognizerResult:  # type: ignore[override]
        return super()._result(start, end, score, **{PLACE_NAME_KEY: place_name})
